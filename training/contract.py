"""The condition contract shared by prepare.py, train.py and export.py (and rebuilt in C++).

Coordinates: pixel (x, y) of an R x R crop is the integer column/row index (OpenCV convention);
a normalised point p maps to pixel coordinates p * R.
"""
import numpy as np

# 5-point alignment template, normalised to [0, 1] of the crop side R. Image-left eye first.
TEMPLATE5 = np.array([
    [0.335, 0.270],  # image-left eye centre  = mean(landmarks 36..41)
    [0.665, 0.270],  # image-right eye centre = mean(landmarks 42..47)
    [0.500, 0.440],  # nose tip               = landmark 30
    [0.355, 0.590],  # image-left mouth corner  = landmark 48
    [0.645, 0.590],  # image-right mouth corner = landmark 54
], dtype=np.float64)

# Keypoint heatmap channels: the 5 alignment points + chin (landmark 8).
KEYPOINTS = [
    ("left_eye", list(range(36, 42))),
    ("right_eye", list(range(42, 48))),
    ("nose_tip", [30]),
    ("mouth_left", [48]),
    ("mouth_right", [54]),
    ("chin", [8]),
]
NUM_KP = len(KEYPOINTS)
# Horizontal flip permutation of the keypoint channels.
FLIP_PERM = [1, 0, 2, 4, 3, 5]
SIGMA_NORM = 0.025  # heatmap sigma as a fraction of R (1.6 px at R=64, 3.2 px at R=128)

# Region to regenerate: one fixed ellipse in normalised crop coordinates, soft edge.
# r = sqrt(((x/R - cx)/ax)^2 + ((y/R - cy)/ay)^2); mask = clip((1 - r) / EDGE, 0, 1)
MASK_ELLIPSE = {"cx": 0.50, "cy": 0.47, "ax": 0.46, "ay": 0.48}
MASK_EDGE = 0.1


def keypoints_from68(lm68):
    """lm68 [..., 68, 2] -> [..., NUM_KP, 2]: mean of the listed landmark indices."""
    lm68 = np.asarray(lm68, dtype=np.float64)
    return np.stack([lm68[..., idx, :].mean(-2) for _, idx in KEYPOINTS], -2)


def align_matrix(kp5, R):
    """2x3 similarity (partial affine) mapping image points to the R x R template, as the product does."""
    import cv2
    M, _ = cv2.estimateAffinePartial2D(np.asarray(kp5, np.float32).reshape(-1, 1, 2),
                                       (TEMPLATE5 * R).astype(np.float32).reshape(-1, 1, 2), method=cv2.LMEDS)
    return M


def transform_points(M, pts):
    pts = np.asarray(pts, np.float64)
    return pts @ M[:, :2].T + M[:, 2]


def beyond_image(M, R, h, w):
    """[R, R] bool: the pixels of the R x R crop warped from an h x w image by M that sample
    beyond the image (where a warp with a replicated border invents them)."""
    grid = np.stack(np.meshgrid(np.arange(R), np.arange(R)), -1)
    import cv2
    src = transform_points(cv2.invertAffineTransform(np.asarray(M, np.float64)), grid)
    return (src[..., 0] < 0) | (src[..., 1] < 0) | (src[..., 0] > w - 1) | (src[..., 1] > h - 1)


def ellipse_mask(R, cx, cy, ax, ay, edge=MASK_EDGE):
    """Soft ellipse mask [R, R] float32, 1 = region to generate."""
    g = np.arange(R, dtype=np.float32) / R
    dx = (g[None, :] - cx) / ax
    dy = (g[:, None] - cy) / ay
    r = np.sqrt(dx * dx + dy * dy)
    return np.clip((1.0 - r) / edge, 0.0, 1.0).astype(np.float32)


def heatmaps(kp_px, R, sigma_px):
    """kp_px [K, 2] pixel coordinates -> [K, R, R] float32, exp(-d^2 / (2 sigma^2))."""
    g = np.arange(R, dtype=np.float32)
    kp = np.asarray(kp_px, np.float32)
    dx = g[None, None, :] - kp[:, 0, None, None]
    dy = g[None, :, None] - kp[:, 1, None, None]
    return np.exp(-(dx * dx + dy * dy) / (2 * sigma_px * sigma_px)).astype(np.float32)


def seen_rgb(mask, sealed):
    """What the condition keeps of the crop's pixels: (1 - mask), or with a sealed band only the
    pixels wholly outside the region (mask == 0), so that no pixel of the soft band around the face
    (cheek and jaw contour, hairline) reaches the generator, not even dimmed."""
    return (mask <= 0) * 1.0 if sealed else 1 - mask


def build_condition(crop_rgb_u8, kp_px, R, sealed=False):
    """Product condition for one aligned crop: [1, 4+K, R, R] float32.

    channels 0-2: RGB in [-1, 1] (x / 127.5 - 1) multiplied by seen_rgb(mask, sealed)
    channel 3: mask (1 = generate), fixed MASK_ELLIPSE with MASK_EDGE
    channels 4..: keypoint heatmaps in KEYPOINTS order
    """
    m = ellipse_mask(R, **MASK_ELLIPSE)
    img = crop_rgb_u8.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    hm = heatmaps(kp_px, R, SIGMA_NORM * R)
    return np.concatenate([img * seen_rgb(m, sealed)[None], m[None], hm], 0)[None].astype(np.float32)
