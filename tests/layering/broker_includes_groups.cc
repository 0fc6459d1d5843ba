// Must compile against src/broker's view (the control for broker_includes_client.cc).
#include "groups/group_coordinator.h"
