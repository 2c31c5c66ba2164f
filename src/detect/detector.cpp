#include "standin/detector.hpp"

#include <fmt/core.h>

#include <opencv2/core/utility.hpp>

#include "detect/tiled_detector.hpp"

namespace standin {

Expected<std::unique_ptr<FaceDetector>> MakeDetector(const DetectorOptions& options,
                                                     const ModelStore& models) {
  if (!(options.threshold > 0.f && options.threshold < 1.f)) {
    return Status(ErrorCode::kInvalidArgument, "detector threshold must be in (0, 1)");
  }
  if (!(options.min_face == 0.f || options.min_face >= 4.f)) {
    return Status(ErrorCode::kInvalidArgument,
                  "minimum face size must be 0 (auto) or at least 4 pixels");
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
  const bool blaze = options.model == "blazeface";
  const std::string model_path = path->string();
  auto factory = [blaze, model_path]() -> Expected<std::unique_ptr<detect::TileNetwork>> {
    try {
      cv::dnn::Net net = cv::dnn::readNetFromONNX(model_path);
      net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
      return blaze ? detect::MakeBlazeFace(std::move(net)) : detect::MakeUltraFace(std::move(net));
    } catch (const cv::Exception& e) {
      return Status(ErrorCode::kModelMissing,
                    fmt::format("model file {} cannot be loaded ({}); restore it with: "
                                "standin-fetch-models",
                                model_path, e.what()));
    }
  };
  auto detector = detect::TiledDetector::Create(factory, options);
  if (!detector.ok()) return detector.status();
  return std::unique_ptr<FaceDetector>(std::move(detector).value());
}

}  // namespace standin
