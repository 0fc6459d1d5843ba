// Must NOT compile against src/log's view: log may not depend on the broker.
#include "broker/broker.h"
