// What the two halves of samsa-loadgen share: the produce side (loadgen.cc, with main) and the
// consume side (fetch.cc, --mode fetch). See the comment at the top of loadgen.cc for the flags.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace loadgen {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode = "produce";  // produce | fetch
  std::string proto = "kafka";
  std::string host = "127.0.0.1";
  int port = 0;
  bool null_sink = false;
  bool loopback = false;  // fetch: a server in this process streams pre-built responses, unasked
  int conns = 4;
  int window = 8;
  int batch = 100;
  int size = 1024;
  double seconds = 5;
  double rate = 0;  // records/s over all connections; 0: as fast as answers come
  double total_mb = 0;  // produce: stop once this many MB (1e6 B) of records were sent; 0: no limit
  int acks = 1;
  std::string topic = "bench";
  int partitions = 4;
  int max_bytes = 1 << 20;  // fetch: the response's and the partition's max_bytes (Kafka's
                            // consumer default max.partition.fetch.bytes)
  int64_t start_offset = 0;  // fetch: every partition from here
  int passes = 1;  // fetch: times each partition is read from start_offset to its end
  std::vector<long> server_pids;  // their CPU seconds are summed
};

[[noreturn]] void die(const std::string& what);
int dial(const std::string& host, int port);
bool write_all(int fd, const void* p, size_t n);

// Listens on 127.0.0.1 (an ephemeral port, returned) and runs serve(fd) on a thread of its own
// for each connection accepted (TCP_NODELAY set); serve closes the fd. Threads are detached: the
// process ends with _Exit.
int serve_loopback(std::function<void(int)> serve);

// A request frame: the 4-byte size, the request header for this API and version (correlation id
// 0; set_correlation changes it), then body.
std::vector<char> request_frame(int16_t api_key, int16_t version, const std::vector<std::byte>& body);
void set_correlation(std::vector<char>& frame, int32_t id);
// One RecordBatch of a.batch records of a.size bytes each (base offset 0), as a client builds it.
std::vector<std::byte> record_batch(const Args& a);

double cpu_seconds_of(const std::vector<long>& pids);  // utime+stime summed; -1 without pids
double own_cpu_seconds();
int64_t percentile(std::vector<int64_t>& v, double q);

// --mode fetch (fetch.cc): prints its line and returns the exit code.
int run_fetch(const Args& a);

}  // namespace loadgen
