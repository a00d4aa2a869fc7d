// protoc-gen-convene: the service code of Protos/ (`make protos` runs it; see ServiceGenerator).
ServiceGenerator.main()
