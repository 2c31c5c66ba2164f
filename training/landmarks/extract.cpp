// extract.cpp - 68-point dlib landmarks for every image in a folder (UTKFace chips).
//
//   extract DATA_DIR PREDICTOR.dat OUT.csv
//
// Pass 1 runs dlib's HOG frontal detector on every image and keeps the largest box.
// The fallback box for images without a detection is the mean detected box (the chips
// are aligned, so one box fits all). Pass 2 runs the 68-point shape predictor.
// Output CSV: file,source,left,top,right,bottom,x0,y0,...,x67,y67 with source
// "hog" or "mean_box".
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: extract DATA_DIR PREDICTOR.dat OUT.csv\n";
    return 2;
  }
  const fs::path dir = argv[1];
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::cerr << files.size() << " images\n";

  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  dlib::shape_predictor sp;
  dlib::deserialize(argv[2]) >> sp;

  std::vector<dlib::array2d<dlib::rgb_pixel>> images(files.size());
  std::vector<dlib::rectangle> boxes(files.size());
  std::vector<bool> found(files.size(), false);
  double sl = 0, st = 0, sr = 0, sb = 0;
  size_t n_found = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    try {
      dlib::load_image(images[i], files[i].string());
    } catch (const std::exception& ex) {
      std::cerr << "skip " << files[i] << ": " << ex.what() << "\n";
      continue;
    }
    std::vector<dlib::rectangle> dets = detector(images[i]);
    if (dets.empty()) continue;
    auto best = std::max_element(
        dets.begin(), dets.end(),
        [](const dlib::rectangle& a, const dlib::rectangle& b) { return a.area() < b.area(); });
    boxes[i] = *best;
    found[i] = true;
    sl += best->left();
    st += best->top();
    sr += best->right();
    sb += best->bottom();
    ++n_found;
  }
  if (n_found == 0) {
    std::cerr << "no face detected anywhere\n";
    return 1;
  }
  const dlib::rectangle mean_box(long(sl / n_found + 0.5), long(st / n_found + 0.5),
                                 long(sr / n_found + 0.5), long(sb / n_found + 0.5));
  std::cerr << "hog found " << n_found << "/" << files.size() << ", mean box " << mean_box << "\n";

  FILE* out = std::fopen(argv[3], "w");
  if (!out) {
    std::cerr << "cannot write " << argv[3] << "\n";
    return 1;
  }
  std::fprintf(out, "file,source,left,top,right,bottom");
  for (int k = 0; k < 68; ++k) std::fprintf(out, ",x%d,y%d", k, k);
  std::fprintf(out, "\n");
  for (size_t i = 0; i < files.size(); ++i) {
    if (images[i].size() == 0) continue;
    const dlib::rectangle box = found[i] ? boxes[i] : mean_box;
    const dlib::full_object_detection shape = sp(images[i], box);
    std::fprintf(out, "%s,%s,%ld,%ld,%ld,%ld", files[i].filename().string().c_str(),
                 found[i] ? "hog" : "mean_box", box.left(), box.top(), box.right(), box.bottom());
    for (unsigned k = 0; k < shape.num_parts(); ++k)
      std::fprintf(out, ",%ld,%ld", shape.part(k).x(), shape.part(k).y());
    std::fprintf(out, "\n");
    images[i].clear();
  }
  std::fclose(out);
  return 0;
}
