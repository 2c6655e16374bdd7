// Dataset pixels to network inputs: rows of a u8 [N, C, H, W] split, normalised per channel
// ((v/255 − mean_c)/std_c, exactly ToTensor + Normalize in f32) into f32 [n, C, H, W] on the
// split's device. Data, not a function of parameters: nothing is recorded.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace loco {

Tensor gather_normalise(const Tensor& pixels, const Tensor& rows, const std::vector<float>& mean,
                        const std::vector<float>& std);

}  // namespace loco
