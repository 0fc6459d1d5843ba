// The consumer-group messages (schema/groups.def, offsets.def, consumer_protocol.def) are part of
// messages.h; this header stays for the code that includes it by that name.
#pragma once

#include "protocol/messages.h"
