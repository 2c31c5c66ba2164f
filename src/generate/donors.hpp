// The identity guard's donors (DonorPool): fitting one to a face, and the order in which a face's
// donors are tried.
#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "standin/analysis.hpp"
#include "standin/generator.hpp"

namespace standin {

// Donor `d` moved onto the face's keypoints (crop pixels): the least-squares affine map of its
// keypoints to the face's, so that its eyes, mouth and chin land where the face's pose puts them.
cv::Mat FitDonor(const DonorPool& pool, int d, const std::vector<cv::Point2f>& kp);

// The mean CIE Lab colour of each donor's skin at the mask's soft edge, where the colour match
// compares a stand-in with the photo.
std::vector<cv::Scalar> DonorEdgeColours(const DonorPool& pool, const cv::Mat1f& mask);

// Each donor's predicted identity against a face: the sum over the recognisers of the z-scored
// cosine similarity of the original's embedding (originals[r], one row) to the donor's own
// (embeddings[r], a row per donor, LoadDonorEmbeddings). Lower is farther from the original.
// Empty when there are no embeddings.
std::vector<double> DonorIdentity(const std::vector<cv::Mat1f>& embeddings,
                                  const std::vector<const cv::Mat1f*>& originals);

// The order in which donors are tried for a face. The cost, cheapest first: the pose distance
// (mean keypoint distance, in crop sides, per 0.02); the colour distance of the donor's skin from
// the photo's at the mask's edge (CIE Lab, per 25 units, the colour match's largest shift;
// lightness only in a grey photo); and the distance of its labelled age and gender from the
// original's age (read from the reference bank, BankAge) and gender estimate, as in the guard's
// choice cost, when the original's attributes (`before`) are known. With `identity` (DonorIdentity,
// one per donor) and a positive `identity_weight`, donors are ranked by that cost and by
// `identity` (farthest first) and tried in the order of the first rank plus `identity_weight`
// times the second (equal values share their mean rank; ties of the sum go by donor index).
std::vector<int> DonorOrder(const DonorPool& pool, const std::vector<cv::Scalar>& donor_lab,
                            const FaceGenerator::Prepared& p, int R, const FaceAttributes* before,
                            float age, const std::vector<double>& identity = {},
                            double identity_weight = 0);

}  // namespace standin
