// standin-detect-eval: recall, false positives, AP and speed of a detector on dlib-format
// labelled images; also fits the box calibration that maps the detector's boxes to the labels'.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "standin/anonymizer.hpp"
#include "standin/eval.hpp"
#include "standin/io.hpp"

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Detection quality on dlib imglab XML files"};
  std::vector<std::string> xmls;
  standin::AnonymizerOptions opts;
  opts.method.kind = standin::MethodKind::kBlur;  // detection only: no generator to load
  float iou = 0.4f;
  float scale = 1.f;
  app.add_option("xml", xmls, "dlib imglab XML files")->required();
  app.add_option("--detector", opts.detector.model)->capture_default_str();
  app.add_option("--min-face", opts.detector.min_face)->capture_default_str();
  app.add_option("--threshold", opts.detector.threshold, "Operating threshold")
      ->capture_default_str();
  app.add_option("--iou", iou)->capture_default_str();
  app.add_option("--scale", scale, "Resize images (and labels) by this factor first")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<standin::eval::LabelledImage> truth;
  for (const auto& x : xmls) {
    auto d = standin::eval::LoadDlibDataset(x);
    if (!d.ok()) {
      std::fprintf(stderr, "%s\n", d.status().message().c_str());
      return 1;
    }
    for (auto li : *d) {
      for (auto& b : li.boxes)
        b = cv::Rect2f(b.x * scale, b.y * scale, b.width * scale, b.height * scale);
      truth.push_back(std::move(li));
    }
  }
  const float operating = opts.detector.threshold;
  opts.detector.threshold = std::min(0.2f, operating);  // low, so AP sees the whole curve
  opts.landmarks = false;
  auto anonymizer = standin::Anonymizer::Create(opts);
  if (!anonymizer.ok()) {
    std::fprintf(stderr, "%s\n", anonymizer.status().message().c_str());
    return 1;
  }
  std::vector<std::vector<standin::Face>> dets;
  double total_ms = 0;
  std::vector<double> dx, dy, sw, sh;
  for (const auto& li : truth) {
    auto img = standin::io::ReadImage(li.file);
    if (!img.ok()) {
      std::fprintf(stderr, "%s\n", img.status().message().c_str());
      return 1;
    }
    if (scale != 1.f) cv::resize(*img, *img, cv::Size(), scale, scale, cv::INTER_AREA);
    const auto t0 = std::chrono::steady_clock::now();
    auto faces = anonymizer->Detect(*img);
    total_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!faces.ok()) return 1;
    for (const auto& g : li.boxes) {
      for (const auto& f : *faces) {
        if (f.score >= operating && standin::eval::IoU(f.box, g) >= 0.3f) {
          dx.push_back((g.x + g.width / 2 - f.box.x - f.box.width / 2) / f.box.width);
          dy.push_back((g.y + g.height / 2 - f.box.y - f.box.height / 2) / f.box.height);
          sw.push_back(g.width / f.box.width);
          sh.push_back(g.height / f.box.height);
        }
      }
    }
    dets.push_back(std::move(faces).value());
  }
  const auto s = standin::eval::ScoreDetections(truth, dets, iou, operating);
  fmt::print("detector={} min_face={} threshold={} iou={}\n", opts.detector.model,
             opts.detector.min_face, operating, iou);
  fmt::print(
      "images={} faces={} recall={:.3f} tp={} fp={} fp/image={:.2f} AP={:.3f} ms/image={:.1f}\n",
      s.images, s.ground_truth, s.recall, s.true_positives, s.false_positives, s.fp_per_image,
      s.average_precision, total_ms / std::max(1, s.images));
  std::string missed;
  for (float m : s.missed_sizes) missed += fmt::format("{:.0f} ", m);
  fmt::print("missed face sizes (px): {}\n", missed.empty() ? "none" : missed);
  fmt::print("residual box offset vs labels (median): dx={:+.3f} dy={:+.3f} sw={:.3f} sh={:.3f}\n",
             Median(dx), Median(dy), Median(sw), Median(sh));
  return 0;
}
