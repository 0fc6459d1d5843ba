// Must NOT compile against src/broker's view: the broker may not depend on the client library.
#include "client/producer.h"
