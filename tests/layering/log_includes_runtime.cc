// Must compile against src/log's view (the control for log_includes_broker.cc).
#include "log/partition_log.h"
#include "runtime/runtime.h"
