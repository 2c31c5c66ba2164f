// Loading the judging networks (identity, attributes, landmarks) from the model store.
#pragma once

#include <opencv2/dnn.hpp>
#include <string>

#include "standin/models.hpp"
#include "standin/status.hpp"

namespace standin {

// The verified ONNX file `file` (as named in the manifest) in OpenCV dnn's CPU backend, or
// kModelMissing naming the file.
Expected<cv::dnn::Net> LoadOnnxNet(const ModelStore& models, const std::string& file);

}  // namespace standin
