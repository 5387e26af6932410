#include "hetmap/backend/backend.hpp"
#include "reference/reference.hpp"
#ifdef HETMAP_HAVE_CUDA
#include "cuda/cuda.hpp"
#endif
#ifdef HETMAP_HAVE_ACL
#include "acl/acl.hpp"
#endif

namespace hetmap::backend {

std::vector<std::string> available_backends() {
  std::vector<std::string> names = {"reference"};
#ifdef HETMAP_HAVE_CUDA
  names.push_back("cuda");
#endif
#ifdef HETMAP_HAVE_ACL
  names.push_back("acl");
#endif
  return names;
}

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options) {
  if (name == "reference") return reference::make_reference_backend(options);
#ifdef HETMAP_HAVE_CUDA
  if (name == "cuda") return cuda::make_cuda_backend(options);
#endif
#ifdef HETMAP_HAVE_ACL
  if (name == "acl") return acl::make_acl_backend(options);
#endif
  std::string have;
  for (const std::string& n : available_backends()) have += (have.empty() ? "" : ", ") + n;
  throw BackendError("unknown backend '" + name + "' (this build has: " + have + ")");
}

}  // namespace hetmap::backend
