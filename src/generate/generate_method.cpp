#include <algorithm>
#include <numeric>

#include "standin/generator.hpp"
#include "standin/methods.hpp"

namespace standin {
namespace {

class GenerateMethod final : public FaceMethod {
 public:
  explicit GenerateMethod(std::unique_ptr<FaceGenerator> g) : generator_(std::move(g)) {}

  Status Apply(cv::Mat& bgr, std::vector<Face>& faces) override {
    std::vector<size_t> order(faces.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return faces[a].box.area() < faces[b].box.area(); });
    for (size_t i : order) {
      const std::uint64_t key =
          faces[i].track_id >= 0 ? static_cast<std::uint64_t>(faces[i].track_id) : i;
      if (Status s = generator_->Replace(bgr, faces[i], key); !s.ok()) return s;
    }
    return Status::Ok();
  }

 private:
  std::unique_ptr<FaceGenerator> generator_;
};

}  // namespace

std::unique_ptr<FaceMethod> MakeGenerateMethod(std::unique_ptr<FaceGenerator> generator) {
  return std::make_unique<GenerateMethod>(std::move(generator));
}

}  // namespace standin
