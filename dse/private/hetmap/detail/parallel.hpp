#pragma once
// Parallel loops for the search, the exhaustive front and sweeps. One interface, two
// implementations (dse/src/parallel.cpp): oneTBB where the build has it (HETMAP_TBB), else a
// small pool of std::threads, so hetmap builds where oneTBB is missing. No TBB type appears
// here: code that includes this header does not need TBB. Internal to hetmap.
#include <cstddef>
#include <memory>
#include <type_traits>

namespace hetmap::detail {

/// Worker slots are numbered [0, max_slots()); the number is fixed for the process.
std::size_t max_slots();

/// The calling thread's slot: inside a parallel_for body, the slot that body was given;
/// elsewhere the slot of the thread (0 for threads that hetmap did not start).
std::size_t current_slot();

/// A body's type-erased reference (no allocation); parallel_for makes it.
struct ChunkRef {
  void* body;
  void (*call)(void* body, std::size_t begin, std::size_t end, std::size_t slot);
};
void parallel_for_chunks(std::size_t first, std::size_t last, std::size_t grain, ChunkRef body);

/// Calls body(begin, end, slot) on chunks that cover [first, last), in parallel, and returns
/// when all have run. `grain` (>= 1) is the size of chunk worth a thread of its own: without
/// oneTBB chunks have exactly that size (the last one less); oneTBB may make them larger when
/// there are fewer threads than chunks, never much smaller. Two chunks that run at the same
/// time have different slots unless one runs inside the other on the same thread (a nested
/// loop), so state kept per slot (max_slots() entries) needs no lock, as long as each
/// top-level loop over that state is started by one thread at a time. Which chunk runs on
/// which slot varies from run to run: results must not depend on it. The first exception a
/// body throws is rethrown here, and chunks not yet started are then skipped.
template <class Body>
void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
  using B = std::remove_reference_t<Body>;
  parallel_for_chunks(first, last, grain,
                      ChunkRef{const_cast<void*>(static_cast<const void*>(std::addressof(body))),
                               [](void* b, std::size_t begin, std::size_t end, std::size_t slot) {
                                 (*static_cast<B*>(b))(begin, end, slot);
                               }});
}

/// While it lives, at most `n` (>= 1) threads run parallel_for bodies, the calling thread
/// included (with oneTBB, a tbb::global_control on max_allowed_parallelism). Limits nest: the
/// smallest wins. For `hetmap explore --jobs N`, benchmarks and tests.
class ThreadLimit {
 public:
  explicit ThreadLimit(std::size_t n);
  ~ThreadLimit();
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hetmap::detail
