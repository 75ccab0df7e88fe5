#include "common/gpu_probe_parse.h"
// Being written (parsers helper).
