// The arithmetic of `standin eval`: detection AP against hand-labelled boxes, re-identification,
// landmark error, attribute agreement, Fréchet distance and memorisation. Each function is pure
// and checked against hand-computed values in tests/eval/metrics_test.cpp.
#pragma once

#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "standin/face.hpp"
#include "standin/status.hpp"

namespace standin::eval {

struct LabelledImage {
  std::filesystem::path file;
  std::vector<cv::Rect2f> boxes;   // faces to find
  std::vector<cv::Rect2f> ignore;  // faces marked "ignore": neither hits nor false positives
};

// Reads a dlib imglab XML file (e.g. /usr/share/doc/libdlib19.1/examples/faces/testing.xml).
// Paths are made absolute relative to the XML's folder.
Expected<std::vector<LabelledImage>> LoadDlibDataset(const std::filesystem::path& xml);

float IoU(const cv::Rect2f& a, const cv::Rect2f& b);

struct DetectionScores {
  int images = 0;
  int ground_truth = 0;
  int true_positives = 0;   // at the operating threshold
  int false_positives = 0;  // at the operating threshold
  double recall = 0;        // true_positives / ground_truth
  double fp_per_image = 0;
  double average_precision = 0;  // area under the interpolated precision-recall curve (all points)
  std::vector<float> missed_sizes;  // sides (pixels) of the ground-truth faces not found
};

// Greedy matching by descending score at `iou` (PASCAL VOC style). `detections[i]` are the faces
// found in image i; those scoring below `threshold` count for AP only.
DetectionScores ScoreDetections(const std::vector<LabelledImage>& truth,
                                const std::vector<std::vector<Face>>& detections, float iou,
                                float threshold);

// The labels in a UTKFace file name, AGE_GENDER_RACE_DATETIME.jpg.chip.jpg (some lack fields):
// -1 where a field is missing or out of range.
struct UtkLabels {
  float age = -1;
  int gender = -1;  // 0 male, 1 female
};
UtkLabels ParseUtkName(const std::string& name);

// --- Identity --------------------------------------------------------------------------------

// An att-faces photo (92x112 grey PGM) as `standin eval` uses it: 92x112 is below the detector's
// working size, so it is upscaled 3x (as a camera closer would be) and made 3-channel BGR.
Expected<cv::Mat> LoadAttFace(const std::filesystem::path& pgm);

// The similarity threshold at which at most `far` of the impostor scores are accepted (accepted
// means score > threshold): the score of the impostor ranked floor(far * n) + 1 from the top.
double ThresholdAtFalseAcceptRate(std::vector<float> impostor, double far);

struct ReidScores {
  int faces = 0;
  double threshold = 0;        // from clean impostor pairs at the requested false-accept rate
  double verified = 0;         // share of (probe, other image of the same person) pairs accepted
  double rank1 = 0;            // share of probes whose best match is the same person
  double chance_verified = 0;  // what a verifier that ignores faces would accept: the FAR
  double chance_rank1 = 0;     // expected rank-1 of a random gallery choice
  double mean_genuine_similarity = 0;  // probe vs the same person's other clean images
  // Rank-1 hits per person (indexed by the `person` label): which people stay recognisable.
  std::vector<int> rank1_hits_by_person;
  std::vector<int> probes_by_person;  // probes per person, same indexing
  // 95% interval of rank1 with people resampled (PersonBootstrapInterval): a person's photos
  // share surroundings and light, so hits come in clusters and the probes are not independent.
  double rank1_low = 0, rank1_high = 0;
  // Per probe: 1 when its best gallery match is its own person, and its chance of that (its own
  // person's share of its gallery). Rank1Among scores a subset of the probes from these.
  std::vector<int> rank1_hit;
  std::vector<double> rank1_chance;
};

// Rank-1 over some of the probes only, e.g. the faces a method painted a stand-in into (the
// guard's solid fallbacks are rarely named, so a method that paints fewer faces scores lower
// for that reason alone).
struct Rank1Share {
  int probes = 0;  // probes counted
  double rank1 = 0, chance_rank1 = 0;
  double rank1_low = 0, rank1_high = 0;  // 95% interval, people resampled
};

// The 2.5th and 97.5th percentiles of hits / probes over `reps` resamples of the people (drawn
// with replacement, as many as there are people with probes; a fixed seed, so the same input
// gives the same interval).
std::pair<double, double> PersonBootstrapInterval(const std::vector<int>& hits,
                                                  const std::vector<int>& probes, int reps = 2000,
                                                  std::uint64_t seed = 1);

// `clean` and `probe` hold one L2-normalised embedding per row; probe row i is an altered (e.g.
// anonymized) version of clean row i; `person` labels the rows. A probe is never compared with
// its own original, only with the person's other images (verification) and with every other
// clean image (rank-1 gallery). The threshold comes from clean impostor pairs at `far`.
// `hidden`, when not empty, names per probe a person (or -1) whose images are left out of that
// probe's rank-1 gallery: the stranger control paints another person's real face, and that
// face's own photos would otherwise win rank-1 for a reason no face of nobody has.
ReidScores ScoreReidentification(const cv::Mat1f& clean, const cv::Mat1f& probe,
                                 const std::vector<int>& person, double far,
                                 const std::vector<int>& hidden = {});

// The rank-1 of `scores` (from ScoreReidentification with the same `person`) over the probes with
// `counted[i]` set; nothing counted (or lists of the wrong length): all zero.
Rank1Share Rank1Among(const ReidScores& scores, const std::vector<int>& person,
                      const std::vector<bool>& counted);

// The same photo, anonymized, against its original (held-out faces: no identity labels, so the
// only pair known to be one person is a face and its own anonymized copy, the strongest attacker:
// same photo, same light, same surroundings).
struct SamePhotoScores {
  int faces = 0;
  double threshold = 0;        // ThresholdAmongStrangers of the originals
  double mean_similarity = 0;  // cosine of row i of `anonymized` with row i of `original`
  double verified = 0;         // share of those above `threshold`
};
SamePhotoScores ScoreSamePhoto(const cv::Mat1f& original, const cv::Mat1f& anonymized,
                               double threshold);
// The similarity threshold at false-accept rate `far` over all pairs of different rows of
// `faces` (L2-normalised), each row taken to be a different person (held-out UTKFace faces carry
// no identity labels; a repeated person among them only makes the threshold stricter).
double ThresholdAmongStrangers(const cv::Mat1f& faces, double far);

// For each row of `probe`, the highest cosine similarity to any row of `references` (both
// L2-normalised).
std::vector<float> MaxSimilarity(const cv::Mat1f& probe, const cv::Mat1f& references);

// --- Pose and attributes -------------------------------------------------------------------

// Mean distance between corresponding points, divided by the distance between points `i` and
// `j` of `reference` (iBUG 68: 36 and 45 are the outer eye corners, the inter-ocular distance).
double NormalisedMeanError(const std::vector<cv::Point2f>& reference,
                           const std::vector<cv::Point2f>& points, int i = 36, int j = 45);

// Head pose (yaw, pitch, roll in degrees; 0, 0, 0 facing the camera) from iBUG 68 landmarks:
// six of them (nose tip 30, chin 8, outer eye corners 36 and 45, mouth corners 48 and 54) fitted
// to a generic 3D face (solvePnP) seen by a pinhole camera centred at `centre` with focal length
// `focal` pixels. Unlike the 68-point error it ignores the face's own proportions, so a stand-in
// with other proportions in the same pose scores 0. Nothing for fewer than 68 points.
std::optional<cv::Vec3d> HeadPose(const std::vector<cv::Point2f>& landmarks68, cv::Point2f centre,
                                  double focal);

// --- Realism ---------------------------------------------------------------------------------

// Fréchet distance between Gaussians fitted to the rows of `a` and of `b` (the FID formula:
// |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), unbiased covariances). Needs >= 2 rows each.
double FrechetDistance(const cv::Mat1f& a, const cv::Mat1f& b);

}  // namespace standin::eval
