#include <dlib/data_io.h>
#include <fmt/core.h>

#include <algorithm>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "standin/eval.hpp"

namespace standin::eval {
namespace fs = std::filesystem;

Expected<cv::Mat> LoadAttFace(const fs::path& pgm) {
  cv::Mat gray = cv::imread(pgm.string(), cv::IMREAD_GRAYSCALE);
  if (gray.empty()) return Status(ErrorCode::kCorruptInput, pgm.string() + ": cannot decode");
  cv::Mat big, bgr;
  cv::resize(gray, big, {}, 3, 3, cv::INTER_CUBIC);
  cv::cvtColor(big, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

Expected<std::vector<LabelledImage>> LoadDlibDataset(const fs::path& xml) {
  dlib::image_dataset_metadata::dataset data;
  try {
    dlib::image_dataset_metadata::load_image_dataset_metadata(data, xml.string());
  } catch (const std::exception& e) {
    return Status(ErrorCode::kCorruptInput, fmt::format("{}: {}", xml.string(), e.what()));
  }
  std::vector<LabelledImage> out;
  for (const auto& img : data.images) {
    LabelledImage li;
    li.file = xml.parent_path() / img.filename;
    for (const auto& b : img.boxes) {
      const cv::Rect2f r(static_cast<float>(b.rect.left()), static_cast<float>(b.rect.top()),
                         static_cast<float>(b.rect.width()), static_cast<float>(b.rect.height()));
      (b.ignore ? li.ignore : li.boxes).push_back(r);
    }
    out.push_back(std::move(li));
  }
  return out;
}

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

DetectionScores ScoreDetections(const std::vector<LabelledImage>& truth,
                                const std::vector<std::vector<Face>>& detections, float iou,
                                float threshold) {
  DetectionScores s;
  s.images = static_cast<int>(truth.size());
  struct Hit {
    float score;
    bool tp;
  };
  std::vector<Hit> hits;
  for (size_t i = 0; i < truth.size(); ++i) {
    const auto& gt = truth[i].boxes;
    s.ground_truth += static_cast<int>(gt.size());
    std::vector<const Face*> dets;
    if (i < detections.size()) {
      for (const auto& f : detections[i]) dets.push_back(&f);
    }
    std::sort(dets.begin(), dets.end(),
              [](const Face* a, const Face* b) { return a->score > b->score; });
    std::vector<bool> taken(gt.size(), false);
    std::vector<bool> found_at_threshold(gt.size(), false);
    for (const Face* d : dets) {
      int best = -1;
      float best_iou = iou;
      for (size_t g = 0; g < gt.size(); ++g) {
        const float v = IoU(d->box, gt[g]);
        if (!taken[g] && v >= best_iou) {
          best = static_cast<int>(g);
          best_iou = v;
        }
      }
      if (best >= 0) {
        taken[static_cast<size_t>(best)] = true;
        hits.push_back({d->score, true});
        if (d->score >= threshold) {
          found_at_threshold[static_cast<size_t>(best)] = true;
          ++s.true_positives;
        }
        continue;
      }
      const bool ignored = std::any_of(truth[i].ignore.begin(), truth[i].ignore.end(),
                                       [&](const cv::Rect2f& r) { return IoU(d->box, r) >= iou; });
      if (ignored) continue;
      hits.push_back({d->score, false});
      if (d->score >= threshold) ++s.false_positives;
    }
    for (size_t g = 0; g < gt.size(); ++g) {
      if (!found_at_threshold[g]) s.missed_sizes.push_back(std::max(gt[g].width, gt[g].height));
    }
  }
  if (s.ground_truth > 0) s.recall = static_cast<double>(s.true_positives) / s.ground_truth;
  if (s.images > 0) s.fp_per_image = static_cast<double>(s.false_positives) / s.images;
  // AP: precision made monotone from the right, integrated over every recall step.
  std::stable_sort(hits.begin(), hits.end(),
                   [](const Hit& a, const Hit& b) { return a.score > b.score; });
  std::vector<double> precision, recall;
  int tp = 0, fp = 0;
  for (const auto& h : hits) {
    (h.tp ? tp : fp)++;
    precision.push_back(static_cast<double>(tp) / (tp + fp));
    recall.push_back(s.ground_truth > 0 ? static_cast<double>(tp) / s.ground_truth : 0.0);
  }
  for (int k = static_cast<int>(precision.size()) - 2; k >= 0; --k) {
    precision[static_cast<size_t>(k)] =
        std::max(precision[static_cast<size_t>(k)], precision[static_cast<size_t>(k) + 1]);
  }
  double prev_recall = 0;
  for (size_t k = 0; k < precision.size(); ++k) {
    s.average_precision += (recall[k] - prev_recall) * precision[k];
    prev_recall = recall[k];
  }
  return s;
}

}  // namespace standin::eval
