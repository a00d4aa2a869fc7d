// The test server (TestServer, withServer), assertRPCError and eventually come from the
// testing kit, for every file of this target.
@_exported import ConveneTesting
