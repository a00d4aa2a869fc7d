/* The ABI is the header alone; this file lets SwiftPM build it as a C module. */
#include "convene_plugin.h"
