// The ACL backend's runtime pieces (docs/acl.md): per-cluster thread pools and the scheduler
// that hands ACL's NEON workloads to the calling thread's pool, OpenCL start-up, GPU buffers.
#include <arm_compute/core/CL/OpenCL.h>
#include <arm_compute/core/CPP/ICPPKernel.h>
#include <arm_compute/core/Window.h>
#include <arm_compute/runtime/CL/CLScheduler.h>
#include <arm_compute/runtime/IScheduler.h>
#include <arm_compute/runtime/Scheduler.h>
#include <fmt/format.h>

#include <algorithm>
#include <exception>

#include "acl/acl.hpp"
#include "reference/reference.hpp"

namespace hetmap::backend::acl {

namespace {
thread_local ClusterPool* t_pool = nullptr;
}  // namespace

ClusterPool::ClusterPool(std::vector<int> cores) : cores_(std::move(cores)) {
  if (cores_.empty()) throw BackendError("acl: a CPU cluster needs at least one core");
  for (int i = 1; i < threads(); ++i) threads_.emplace_back([this, i] { worker(i); });
}

ClusterPool::~ClusterPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ClusterPool::worker(int index) {
  reference::pin_thread({cores_[static_cast<std::size_t>(index)]});
  std::uint64_t seen = 0;
  for (;;) {
    const std::vector<std::function<void(int)>>* work = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      work = work_;
    }
    std::exception_ptr error;
    if (static_cast<std::size_t>(index) < work->size()) {
      try {
        (*work)[static_cast<std::size_t>(index)](index);
      } catch (...) {
        error = std::current_exception();
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (error && !error_) error_ = error;
    if (--pending_ == 0) done_.notify_one();
  }
}

void ClusterPool::run(const std::vector<std::function<void(int)>>& work) {
  if (work.empty()) return;
  if (work.size() > static_cast<std::size_t>(threads()))
    throw BackendError(fmt::format("acl: {} workloads for a pool of {} threads", work.size(),
                                   threads()));
  if (work.size() == 1) {  // nothing to hand over: no wake-up cost
    work[0](0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    work_ = &work;
    pending_ = static_cast<int>(threads_.size());
    error_ = nullptr;
    ++generation_;
  }
  start_.notify_all();
  std::exception_ptr mine;
  try {
    work[0](0);
  } catch (...) {
    mine = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  work_ = nullptr;
  if (mine) std::rethrow_exception(mine);
  if (error_) std::rethrow_exception(error_);
}

UsePool::UsePool(ClusterPool* pool) : previous_(t_pool) { t_pool = pool; }
UsePool::~UsePool() { t_pool = previous_; }

namespace {

using arm_compute::ICPPKernel;
using arm_compute::IScheduler;
using arm_compute::ITensorPack;
using arm_compute::ThreadInfo;
using arm_compute::Window;

// ACL's scheduler interface over the calling thread's ClusterPool. The split follows ACL's own
// CPPScheduler (STATIC: one window per thread along the hinted dimension; DYNAMIC: as many
// windows as the hint's threshold, handed out in turn; split_dimensions_all: a grid over X, here
// one row of windows), so every kernel sees windows it was written for.
class ClusterScheduler final : public IScheduler {
 public:
  // A cluster's thread count is its cores; ACL asking for another is ignored on purpose.
  void set_num_threads(unsigned int) override {}
  unsigned int num_threads() const override {
    return t_pool ? static_cast<unsigned int>(t_pool->threads()) : 1u;
  }
  void schedule(ICPPKernel* kernel, const Hints& hints) override {
    ITensorPack none;
    schedule_common(kernel, hints, none);
  }
  void schedule_op(ICPPKernel* kernel, const Hints& hints, ITensorPack& tensors) override {
    schedule_common(kernel, hints, tensors);
  }

 protected:
  void run_workloads(std::vector<Workload>& workloads) override {
    const unsigned int threads = num_threads();
    if (workloads.empty()) return;
    std::vector<std::function<void(int)>> work(std::min<std::size_t>(threads, workloads.size()));
    const std::size_t stride = work.size();
    for (std::size_t t = 0; t < work.size(); ++t)
      work[t] = [&, t, stride](int thread) {
        ThreadInfo info;
        info.thread_id = thread;
        info.num_threads = static_cast<int>(stride);
        info.cpu_info = &_cpu_info;
        for (std::size_t w = t; w < workloads.size(); w += stride) workloads[w](info);
      };
    if (t_pool) t_pool->run(work);
    else work[0](0);
  }

 private:
  void schedule_common(ICPPKernel* kernel, const Hints& hints, ITensorPack& tensors) {
    const Window& max = kernel->window();
    const bool op = !tensors.empty();
    if (hints.split_dimension() == IScheduler::split_dimensions_all) {
      const std::size_t m = max.num_iterations(Window::DimX);
      const unsigned int parts = static_cast<unsigned int>(std::min<std::size_t>(num_threads(), m));
      if (parts == 0) return;
      std::vector<Workload> workloads;
      for (unsigned int i = 0; i < parts; ++i)
        workloads.push_back([&, i, parts](const ThreadInfo& info) {
          Window win = max.split_window(Window::DimX, i, parts);
          win.validate();
          Window locator;
          locator.set(Window::DimX, Window::Dimension(i, parts));
          locator.set(Window::DimY, Window::Dimension(0, 1));
          locator.validate();
          kernel->run_nd(win, info, locator);
        });
      run_workloads(workloads);
      return;
    }
    const std::size_t iterations = max.num_iterations(hints.split_dimension());
    if (iterations == 0) return;
    const unsigned int threads =
        static_cast<unsigned int>(std::min<std::size_t>(iterations, num_threads()));
    if (!kernel->is_parallelisable() || threads == 1) {
      ThreadInfo info;
      info.cpu_info = &_cpu_info;
      if (op) kernel->run_op(tensors, max, info);
      else kernel->run(max, info);
      return;
    }
    unsigned int windows = threads;
    if (hints.strategy() == StrategyHint::DYNAMIC) {
      const unsigned int granule =
          hints.threshold() <= 0 ? threads : static_cast<unsigned int>(hints.threshold());
      windows = iterations > granule ? granule : static_cast<unsigned int>(iterations);
    }
    std::vector<Workload> workloads(windows);
    for (unsigned int t = 0; t < windows; ++t)
      workloads[t] = [&, t, windows, op](const ThreadInfo& info) {
        Window win = max.split_window(hints.split_dimension(), t, windows);
        win.validate();
        if (op) kernel->run_op(tensors, win, info);
        else kernel->run(win, info);
      };
    run_workloads(workloads);
  }
};

}  // namespace

void install_scheduler() {
  static const bool installed = [] {
    arm_compute::Scheduler::set(std::make_shared<ClusterScheduler>());
    return true;
  }();
  (void)installed;
}

std::string init_opencl() {
  static const std::string why = []() -> std::string {
    if (!arm_compute::opencl_is_available())
      return "no OpenCL library could be loaded (ACL looks for libOpenCL.so, libGLES_mali.so "
             "and libmali.so: install the board's GPU driver)";
    try {
      std::vector<cl::Platform> platforms;
      cl::Platform::get(&platforms);
      for (cl::Platform& p : platforms) {
        std::vector<cl::Device> devices;
        p.getDevices(CL_DEVICE_TYPE_GPU, &devices);
        if (devices.empty()) continue;
        cl::Context context(devices.front());
        arm_compute::CLScheduler::get().default_init_with_context(devices.front(), context);
        return "";
      }
      return fmt::format("OpenCL has {} platform(s) but no GPU device", platforms.size());
    } catch (const std::exception& e) {
      return std::string("OpenCL could not be initialised: ") + e.what();
    }
  }();
  return why;
}

arm_compute::TensorShape acl_shape(const Shape& shape) {
  arm_compute::TensorShape s;
  const std::size_t n = shape.dims.size();
  for (std::size_t d = 0; d < n; ++d)
    s.set(d, static_cast<std::size_t>(shape.dims[n - 1 - d]), /*apply_dim_correction=*/false);
  if (n == 0) s.set(0, 1);
  return s;
}

ClBuffer::ClBuffer(Shape shape) : shape_(std::move(shape)) {
  tensor_.allocator()->init(
      arm_compute::TensorInfo(acl_shape(shape_), 1, arm_compute::DataType::F32));
  tensor_.allocator()->allocate();
}

}  // namespace hetmap::backend::acl
