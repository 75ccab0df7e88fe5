#ifndef GPUQ_COMMON_IDS_H_
#define GPUQ_COMMON_IDS_H_

#include <cstdint>
#include <functional>

namespace gpuq {

// Strong id types: a TaskId cannot be passed where a RunId is expected.
template <typename Tag>
struct Id {
  int64_t value = 0;

  constexpr Id() = default;
  constexpr explicit Id(int64_t v) : value(v) {}
  constexpr bool valid() const { return value > 0; }
  friend constexpr auto operator<=>(Id, Id) = default;
};

using UserId = Id<struct UserIdTag>;
using NodeId = Id<struct NodeIdTag>;
using TaskId = Id<struct TaskIdTag>;
using RunId = Id<struct RunIdTag>;

}  // namespace gpuq

template <typename Tag>
struct std::hash<gpuq::Id<Tag>> {
  size_t operator()(gpuq::Id<Tag> id) const noexcept { return std::hash<int64_t>()(id.value); }
};

#endif  // GPUQ_COMMON_IDS_H_
