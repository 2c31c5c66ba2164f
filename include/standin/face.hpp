// What the pipeline knows about one face.
#pragma once

#include <array>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace standin {

// Five alignment keypoints, in this order (image left/right, not the person's).
enum Keypoint5 { kLeftEye = 0, kRightEye = 1, kNose = 2, kMouthLeft = 3, kMouthRight = 4 };

// What the identity guard (standin/generator.hpp, IdentityGuardOptions) did for one generated face:
// the proof that the stand-in is far from the person it replaces. The original face's embedding
// is not part of it: it never leaves the process.
struct IdentityReceipt {
  std::string recogniser;  // the identity network that judged the candidates
  float margin = 0;        // a candidate passes when its similarity to the original is below this
  float similarity = 0;    // cosine similarity of the chosen stand-in to the original (if any)
  int drawn = 0;           // candidates generated
  int rejected = 0;        // candidates at or above the margin (or failing the stranger test)
  // The stranger test (IdentityGuardOptions::stranger_percentile): the chosen stand-in's similarity
  // to the original had to be below this percentile of its similarities to the reference bank;
  // -1 when the test was off.
  float stranger_threshold = -1;
  bool passed = false;  // a candidate passed; false: the face got the fallback method
  // The chosen stand-in is this donor of the pool (IdentityGuardOptions::donors), not one of the
  // face's own candidates; -1: its own. `drawn` and `rejected` count donors judged too.
  int donor = -1;
  // Attributes of the original and of the chosen stand-in (age in years, probability of being
  // read as female, expression name; the expression is empty when it was not estimated).
  float age_before = 0, age_after = 0;
  float female_before = 0, female_after = 0;
  std::string expression_before, expression_after;
  // How confidently a face detector reads the chosen stand-in, in place, as a face (FacenessJudge,
  // the "looks natural" criterion); -1 when not judged.
  float faceness = -1;
  int frames_since_check = 0;  // videos: the verdict is that of a check this many frames ago
  // Each further recogniser that judged (IdentityGuardOptions::second), in its order: the face's
  // margin on its scale, and the chosen stand-in's similarity and stranger threshold there.
  struct Second {
    std::string recogniser;
    float margin = 0, similarity = 0, stranger_threshold = -1;
  };
  std::vector<Second> second;
};

struct Face {
  cv::Rect2f box;     // pixels, in the convention of dlib's hand-labelled boxes
  float score = 0.f;  // detector confidence in [0, 1]; videos: the best of the face's track so far
  std::array<cv::Point2f, 5> kps5{};     // eyes, nose tip, mouth corners (see Keypoint5)
  std::vector<cv::Point2f> landmarks68;  // iBUG 300-W order; empty when landmarks are off
  std::string method;                    // what was done to this face ("blur", "pixelate", ...)
  // Why the face got another method than the one asked for (empty when it got that one): a
  // face too small or too large for the generator, a detection too unsure to be given a face, or
  // one none of whose stand-ins passed the identity guard.
  std::string reason;
  // Generated faces: the side in pixels of the stand-in as painted (64, or 128 when refined).
  int resolution = 0;
  // How the face was found: "detected"; in videos also "tracked" (followed from the previous
  // frame by its landmarks) or "backfilled" (found later, covered in earlier frames too).
  std::string origin = "detected";
  int track_id = -1;                       // videos: the same person across frames
  std::optional<IdentityReceipt> receipt;  // generated faces with the identity guard on
};

}  // namespace standin
