#include "hetmap/detail/parallel.hpp"

#include <algorithm>
#include <stdexcept>

#if HETMAP_WITH_TBB

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace hetmap::detail {

namespace {

// hetmap runs every loop in the default arena, whose slot indices are below its concurrency.
std::size_t slot_count() {
  static const std::size_t n =
      static_cast<std::size_t>(std::max(1, tbb::this_task_arena::max_concurrency()));
  return n;
}

std::size_t thread_slot() {
  const int i = tbb::this_task_arena::current_thread_index();
  return i < 0 ? 0 : static_cast<std::size_t>(i);  // < 0: the thread has no arena yet
}

}  // namespace

std::size_t max_slots() { return slot_count(); }

std::size_t current_slot() { return thread_slot(); }

void parallel_for_chunks(std::size_t first, std::size_t last, std::size_t grain, ChunkRef body) {
  if (first >= last) return;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(first, last, std::max<std::size_t>(grain, 1)),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      const std::size_t slot = thread_slot();
                      // Per-slot state is sized by max_slots(): never index past it.
                      if (slot >= slot_count())
                        throw std::logic_error("hetmap: a oneTBB thread outside the default arena");
                      body.call(body.body, r.begin(), r.end(), slot);
                    });
}

struct ThreadLimit::Impl {
  explicit Impl(std::size_t n) : control(tbb::global_control::max_allowed_parallelism, n) {}
  tbb::global_control control;
};

ThreadLimit::ThreadLimit(std::size_t n)
    : impl_(std::make_unique<Impl>(std::max<std::size_t>(n, 1))) {}

ThreadLimit::~ThreadLimit() = default;

}  // namespace hetmap::detail

#else  // no oneTBB: a pool of std::threads

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sched.h>
#endif

namespace hetmap::detail {

namespace {

// Cores this process may run on (an MPI rank bound to one core gets 1), as oneTBB counts them.
std::size_t cpu_count() {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<std::size_t>(CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

std::size_t slot_count() {
  static const std::size_t n = cpu_count();
  return n;
}

// Worker i of the pool has slot i + 1; every other thread has slot 0.
thread_local std::size_t tl_slot = 0;

// Every ThreadLimit alive; the smallest one bounds the threads at work.
std::mutex limits_mutex;
std::multiset<std::size_t> limits;
std::atomic<std::size_t> allowed{0};  // 0: no limit

std::size_t threads_allowed() {
  const std::size_t a = allowed.load(std::memory_order_relaxed);
  return a == 0 ? slot_count() : std::min(a, slot_count());
}

// One parallel_for call. Its caller always works on it; idle pool workers join while chunks
// are left. A worker that meets a nested loop is that loop's caller. A thread only waits for
// the helpers of its own loop, and only idle workers become helpers, so every wait ends at a
// thread at work: no deadlock, whatever the nesting.
struct Job {
  Job(std::size_t first, std::size_t last, std::size_t grain, ChunkRef body)
      : last(last), grain(grain), body(body), next(first) {}
  std::size_t last, grain;
  ChunkRef body;
  std::atomic<std::size_t> next;  // first index not yet claimed
  std::size_t helpers = 0;        // pool workers inside it (under Pool::mutex_)
  std::exception_ptr error;       // the first exception (under Pool::mutex_)
};

class Pool {
 public:
  static Pool& get() {
    static Pool pool;
    return pool;
  }

  void run(Job& job) {
    bool shared = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (busy_ + 1 < threads_allowed()) {
        jobs_.push_back(&job);
        shared = true;
      }
    }
    if (shared) work_.notify_all();
    drain(job, tl_slot);
    if (shared) {
      std::unique_lock<std::mutex> lock(mutex_);
      jobs_.erase(std::find(jobs_.begin(), jobs_.end(), &job));
      done_.wait(lock, [&] { return job.helpers == 0; });
    }
    if (job.error) std::rethrow_exception(job.error);
  }

  static bool started() { return started_.load(std::memory_order_acquire); }

  // A limit was lifted: idle workers may join the jobs under way. Taking the mutex orders the
  // new limit before any worker's next look at it.
  void wake() {
    { std::lock_guard<std::mutex> lock(mutex_); }
    work_.notify_all();
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  Pool() {
    jobs_.reserve(4 * slot_count());
    for (std::size_t slot = 1; slot < slot_count(); ++slot)
      threads_.emplace_back([this, slot] { work(slot); });
    started_.store(true, std::memory_order_release);
  }

  void drain(Job& job, std::size_t slot) {
    for (;;) {
      const std::size_t begin = job.next.fetch_add(job.grain, std::memory_order_relaxed);
      if (begin >= job.last) return;
      const std::size_t end = job.last - begin < job.grain ? job.last : begin + job.grain;
      try {
        job.body.call(job.body.body, begin, end, slot);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!job.error) job.error = std::current_exception();
        job.next.store(job.last, std::memory_order_relaxed);  // skip what is left
        return;
      }
    }
  }

  Job* open_job() const {
    for (Job* j : jobs_)
      if (j->next.load(std::memory_order_relaxed) < j->last) return j;
    return nullptr;
  }

  void work(std::size_t slot) {
    tl_slot = slot;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      Job* job = nullptr;
      work_.wait(lock, [&] {
        return stop_ || (busy_ + 1 < threads_allowed() && (job = open_job()) != nullptr);
      });
      if (stop_) return;
      ++job->helpers;
      ++busy_;
      lock.unlock();
      drain(*job, slot);
      lock.lock();
      --busy_;
      if (--job->helpers == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_;  // a job was posted, a limit lifted, or stop
  std::condition_variable done_;  // a job lost its last helper
  std::vector<Job*> jobs_;        // jobs whose callers still hand out chunks
  std::size_t busy_ = 0;          // workers inside a job
  bool stop_ = false;
  std::vector<std::thread> threads_;
  static inline std::atomic<bool> started_{false};
};

}  // namespace

std::size_t max_slots() { return slot_count(); }

std::size_t current_slot() { return tl_slot; }

void parallel_for_chunks(std::size_t first, std::size_t last, std::size_t grain, ChunkRef body) {
  if (first >= last) return;
  grain = std::max<std::size_t>(grain, 1);
  // One chunk, one core or a limit of one: on this thread, without the pool.
  if (last - first <= grain || threads_allowed() <= 1) {
    for (std::size_t begin = first; begin < last;) {
      const std::size_t end = last - begin < grain ? last : begin + grain;
      body.call(body.body, begin, end, tl_slot);
      begin = end;
    }
    return;
  }
  Job job(first, last, grain, body);
  Pool::get().run(job);
}

struct ThreadLimit::Impl {
  std::multiset<std::size_t>::iterator it;
};

ThreadLimit::ThreadLimit(std::size_t n) : impl_(std::make_unique<Impl>()) {
  std::lock_guard<std::mutex> lock(limits_mutex);
  impl_->it = limits.insert(std::max<std::size_t>(n, 1));
  allowed.store(*limits.begin(), std::memory_order_relaxed);
}

ThreadLimit::~ThreadLimit() {
  {
    std::lock_guard<std::mutex> lock(limits_mutex);
    limits.erase(impl_->it);
    allowed.store(limits.empty() ? 0 : *limits.begin(), std::memory_order_relaxed);
  }
  if (Pool::started()) Pool::get().wake();
}

}  // namespace hetmap::detail

#endif
