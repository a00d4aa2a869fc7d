/* Declarations only; libFuzzer provides the symbol when -sanitize=fuzzer links it. */
