/* Fixture: a shared library without the entry symbol. The loader reports missingEntry. */
int convene_fixture_not_an_entry(void) { return 42; }
