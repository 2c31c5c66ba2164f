#include <fmt/core.h>
#include <opencv2/core/utility.hpp>

#include "detect/tiled_detector.hpp"
#include "standin/detector.hpp"

namespace standin {

Expected<std::unique_ptr<FaceDetector>> MakeDetector(const DetectorOptions& options,
                                                     const ModelStore& models) {
  if (!(options.threshold > 0.f && options.threshold < 1.f)) {
    return Status(ErrorCode::kInvalidArgument, "detector threshold must be in (0, 1)");
  }
  if (!(options.min_face >= 4.f)) {
    return Status(ErrorCode::kInvalidArgument, "minimum face size must be at least 4 pixels");
  }
  std::string file;
  if (options.model == "blazeface") {
    file = "blazeface_back_256.onnx";
  } else if (options.model == "ultraface") {
    file = "ultraface_rfb_320.onnx";
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("unknown detector '{}' (blazeface, ultraface)", options.model));
  }
  auto path = models.Path(file);
  if (!path.ok()) return path.status();
  if (options.threads > 0) cv::setNumThreads(options.threads);
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(path->string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("model file {} cannot be loaded ({}); restore it with: "
                              "standin-fetch-models",
                              path->string(), e.what()));
  }
  auto network = options.model == "blazeface" ? detect::MakeBlazeFace(std::move(net))
                                              : detect::MakeUltraFace(std::move(net));
  return std::unique_ptr<FaceDetector>(
      std::make_unique<detect::TiledDetector>(std::move(network), options));
}

}  // namespace standin
