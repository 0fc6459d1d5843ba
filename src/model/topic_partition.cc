#include "model/topic_partition.h"

namespace samsa::model {

std::string TopicPartition::to_string() const { return topic + "-" + std::to_string(partition); }

}  // namespace samsa::model
