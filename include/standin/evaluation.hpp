// `standin eval`: what each anonymization method keeps (detectability, pose, attributes, realism)
// and what it removes (identity), measured side by side on the same faces, plus its speed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "standin/anonymizer.hpp"
#include "standin/eval.hpp"
#include "standin/status.hpp"

namespace standin::eval {

struct EvalOptions {
  // Methods compared (each with the anonymizer settings below). "generate" runs with the identity
  // guard as configured in `anonymizer`; variants change it: "generate-unguarded" (no guard),
  // "generate-attr" (attribute weight 1), "generate-noattr" (0, the default), "generate-kN" (N
  // candidates), "generate-all" (no early stop: always all N), "generate-nosmooth" (no low-pass
  // of the generated crop), "generate-nocolour" (no colour matching), "generate-harmonic" (the
  // harmonic edge match), "generate-plusdlib" (dlib's ResNet judging second; "-spP" after it its
  // stranger test, "-smM" its margin; "generate-plusdlib-plusmobileface": both),
  // combinable in that syntax, e.g. "generate-k1-attr".
  std::vector<std::string> methods = {"generate", "generate-unguarded", "blur", "pixelate",
                                      "solid"};
  // The project's data (README there): utkface-crop (held-out faces, memorisation references)
  // and att-faces (identities). Sections whose data is missing are skipped and say so.
  std::filesystem::path shared_data = "../shared/data";
  // Labelled photos for detection retention (dlib imglab XML files in the folder).
  std::filesystem::path dlib_faces = "/usr/share/doc/libdlib19.1/examples/faces";
  // The user's own folder of images: replaces the detection photos (labels are read from dlib
  // imglab XML files in it when present, else the reference detector's faces on the originals
  // are the ground truth) and the held-out faces (pose, attributes, realism and speed are
  // measured on every face standin finds in it).
  std::filesystem::path user_data;
  // The held-out UTKFace file names (training/split/val.txt). Empty: the installed or source copy.
  std::filesystem::path heldout_list;
  // Caps for quick runs (0 = all): held-out faces, att-faces people, memorisation references.
  int max_faces = 0;
  int max_people = 0;
  int max_references = 0;
  // Adds a re-identification control row, "stranger-control": every att-faces face replaced by
  // another person's real face, aligned and blended exactly as a stand-in is. It measures what
  // the surroundings a stand-in keeps (hair, ears, outline, the photo's light) give away. The
  // painted-in person's own photos are left out of that probe's rank-1 gallery (before session
  // 15 they were not, and the face's own photos won rank-1: 5.0% held-out rank-1, now 12.2%).
  // On the held-out UTKFace faces (colour; since session 16) each face gets the previous held-out
  // face's real face the same way, and the control row's same-photo figures say what the kept
  // surroundings give away against the face's own original.
  bool stranger_control = false;
  // Reference detector for retention: not the one standin finds faces with (not circular).
  std::string reference_detector = "ultraface";
  // False-accept rate that sets the verification threshold on clean impostor pairs.
  double far = 0.01;
  // Settings every method runs with (method kind and generator seed are set per method).
  AnonymizerOptions anonymizer;
  std::uint64_t seed = 1;
  // Called as work advances: (section, done, total).
  std::function<void(const std::string&, int, int)> progress;
};

// One method's figures (also one row for the untouched originals, method "original").
// NaN: not measured (section skipped or not applicable).
struct MethodResult {
  std::string method;
  // Detection retention on labelled photos (reference detector).
  double ap = 0, recall = 0, ap_retention = 0, recall_retention = 0;
  // Re-identification on att-faces, per recogniser.
  std::map<std::string, ReidScores> reid;
  // Methods that paint faces (generate and its variants, the stranger control): the share of
  // att-faces probes whose face got a painted face (not the guard's fallback, and found at all),
  // and each recogniser's rank-1 over those probes only. Empty / NaN for the other methods.
  double painted_share = 0;
  std::map<std::string, Rank1Share> reid_painted;
  // Held-out faces, per recogniser: each anonymized face against its own original photo
  // (ScoreSamePhoto, threshold from the originals taken as strangers at `far`).
  std::map<std::string, SamePhotoScores> same_photo;
  // Pose: mean normalised landmark error (independent landmark model) vs the original.
  double landmark_nme = 0;
  // Head pose: mean |difference| in degrees between the original's yaw, pitch and roll and the
  // anonymized face's (HeadPose on the independent model's landmarks). Unlike the landmark error
  // it does not count a stand-in's own proportions against it.
  double yaw_error = 0, pitch_error = 0, roll_error = 0;
  // Attributes vs the original's: |age difference| (years), gender and expression agreement.
  double age_mae = 0, gender_agreement = 0, expression_agreement = 0;
  // The same for age and gender as read by the independent judge (AgeGenderJudge, FaceRes), which
  // the identity guard never consults.
  double judged_age_mae = 0, judged_gender_agreement = 0;
  // Realism: Fréchet distance to held-out real faces, per embedding space; reference detector's
  // mean confidence on the faces and the share it finds.
  std::map<std::string, double> frechet;
  double detector_confidence = 0, detector_found = 0;
  // Memorisation: the highest identity similarity of each face to any training image; the max
  // over faces, the share above the verification threshold (att-faces calibration) and the share
  // above the same-domain threshold (EvalReport::memorisation_domain_threshold).
  double memorisation_max = 0, memorisation_median = 0, memorisation_share = 0,
         memorisation_share_domain = 0;
  // The identity guard's receipts over every face the method generated (0 faces: no guard).
  int guard_faces = 0;
  double guard_margin = 0;      // mean of the faces' margins (relative margins vary per face)
  double guard_margin_max = 0;  // the largest
  double guard_passed = 0;  // share of faces that got a stand-in below the margin (else fallback)
  double guard_donors = 0;  // share of faces whose stand-in is a donor (IdentityGuardOptions)
  double guard_mean_similarity = 0, guard_max_similarity = 0;  // chosen stand-in vs original
  double guard_candidates = 0;                                 // mean candidates drawn per face
  double guard_rejected = 0;  // share of drawn candidates at or above the margin
  // Speed of the method alone (detection and landmarks excluded, reported once).
  double ms_per_face = 0, ms_per_image = 0;
};

struct EvalReport {
  std::vector<MethodResult> rows;  // "original" first
  // What was measured on what.
  int detection_images = 0, detection_faces = 0;
  std::string detection_data, detection_labels;
  std::string heldout_data;
  int heldout_faces = 0, heldout_missed = 0;  // faces used; images where standin found none
  int identity_images = 0, identity_people = 0, identity_missed = 0;
  int memorisation_references = 0;
  // The first recogniser's threshold at `far` among pairs of different held-out UTKFace faces
  // (nearly all strangers: the set has no identity labels): a verifier calibrated on the
  // training data's own domain.
  double memorisation_domain_threshold = 0;
  std::map<std::string, double> verification_threshold;  // per recogniser, at `far`
  double far = 0.01;
  double ms_detect_per_image = 0;  // standin's detection + landmarks on the detection photos
  double original_age_mae_vs_label = 0, original_gender_accuracy_vs_label = 0;
  double judge_age_mae_vs_label = 0, judge_gender_accuracy_vs_label = 0;  // AgeGenderJudge's
  std::vector<std::string> skipped;  // sections not run, with the reason
  std::vector<std::string> recognisers;
  std::string reference_detector;
  double seconds = 0;
  cv::Mat montage;  // example faces: a row per method
};

Expected<EvalReport> RunEvaluation(const EvalOptions& options);

// The settings of an EvalOptions::methods name ("blur", "generate-k2-noattr", ...) on top of
// `base`; kInvalidArgument for an unknown method or variant.
Expected<AnonymizerOptions> MethodVariant(const std::string& name, AnonymizerOptions base);

std::string EvalReportToJson(const EvalReport& report);
std::string EvalReportToMarkdown(const EvalReport& report);

// Writes eval.json, report.md and montage.png into `dir` (created when missing), each atomically,
// then renders charts/*.png with `chart_script` (Python + matplotlib) when one is given. Charts
// are optional: the returned string says why they were not drawn ("" when they were).
Expected<std::string> WriteEvaluation(const EvalReport& report, const std::filesystem::path& dir,
                                      const std::filesystem::path& chart_script);

}  // namespace standin::eval
