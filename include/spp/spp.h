// spp-trt public API: Spatial Pyramid Pooling descriptors, shape math and validation.
//
// This header has no TensorRT, CUDA or Torch types; it is shared by the CPU reference (spp/reference.h), the CUDA
// launcher (spp/cuda.h), the TensorRT plugins and the tests. See docs/spp.md for the exact semantics.
#pragma once

#include <cstddef>
#include <cstdint>

namespace spp
{

//! Name, version and namespace of the operation, shared by the TensorRT creator, the ONNX node and Python.
constexpr char const* kSPP_PLUGIN_NAME = "SpatialPyramidPooling";
constexpr char const* kSPP_PLUGIN_VERSION = "1";
constexpr char const* kSPP_PLUGIN_NAMESPACE = "";

constexpr int32_t kMAX_LEVELS = 16;  //!< Most pyramid levels one operation may have.
constexpr int32_t kMAX_LEVEL = 256;  //!< Largest level L (an L x L grid of bins).

enum class PoolMode : int32_t
{
    kMAX = 0,
    kAVG = 1,
};

enum class BinRule : int32_t
{
    kADAPTIVE = 0, //!< torch.nn.functional.adaptive_{max,avg}_pool2d bins.
    kCAFFE = 1,    //!< The original SPP-net (Caffe SPPLayer) windows.
};

enum class DataType : int32_t
{
    kFLOAT = 0,
    kHALF = 1,
    kBF16 = 2,
    kINT8 = 3,
};

enum class Layout : int32_t
{
    kNCHW = 0, //!< Dense [N, C, H, W].
    kNHWC = 1, //!< Channels last [N, H, W, channelStride], channelStride >= C (TensorRT kHWC/kHWC8).
};

//! Result of a validation or a host-side call: ok() or a message saying what is wrong.
class Status
{
public:
    static Status success() noexcept
    {
        return Status{};
    }
    //! printf-style message; truncated to kCAPACITY - 1 characters.
    static Status error(char const* format, ...) noexcept
#if defined(__GNUC__)
        __attribute__((format(printf, 1, 2)))
#endif
        ;

    bool ok() const noexcept
    {
        return !mFailed;
    }
    char const* message() const noexcept
    {
        return mMessage;
    }

    static constexpr int32_t kCAPACITY = 256;

private:
    bool mFailed{false};
    char mMessage[kCAPACITY]{};
};

//! The shape-independent attributes of an SPP operation (the plugin's fields).
struct PyramidConfig
{
    int32_t numLevels{0};
    int32_t levels[kMAX_LEVELS]{};
    PoolMode mode{PoolMode::kMAX};
    BinRule rule{BinRule::kADAPTIVE};
};

//! One SPP call: attributes, element type, layout and input dims.
struct SppDesc
{
    PyramidConfig pyramid{};
    DataType dtype{DataType::kFLOAT};
    Layout layout{Layout::kNCHW};
    int64_t n{0};
    int64_t c{0};
    int64_t h{0};
    int64_t w{0};
    //! Distance between consecutive pixels in elements for kNHWC (>= c); 0 means c. Ignored for kNCHW.
    int64_t channelStride{0};
};

//! Builds a config from a level list, checking it. On error `config` is left unchanged.
Status makePyramidConfig(
    int32_t const* levels, int32_t numLevels, PoolMode mode, BinRule rule, PyramidConfig& config) noexcept;

//! "max" / "avg" -> PoolMode; "adaptive" / "caffe" -> BinRule. Messages name the field and allowed values.
Status parsePoolMode(char const* text, PoolMode& mode) noexcept;
Status parseBinRule(char const* text, BinRule& rule) noexcept;
char const* toString(PoolMode mode) noexcept;
char const* toString(BinRule rule) noexcept;
char const* toString(DataType dtype) noexcept;
char const* toString(Layout layout) noexcept;

//! Bytes of one element of `dtype` (0 for an unknown value).
size_t elementSize(DataType dtype) noexcept;

//! Checks levels (1..16 entries, each in [1, 256]), mode and rule.
Status validate(PyramidConfig const& config) noexcept;
//! Checks the config, dtype, layout, dims (N >= 0; C, H, W >= 1; channelStride) and that sizes fit in int64 and
//! that the output feature count C * sum(L^2) fits in int32 (a tensor dimension).
Status validate(SppDesc const& desc) noexcept;

//! sum over levels of L * L: output features per channel. 0 if the config is invalid.
int64_t binsPerChannel(PyramidConfig const& config) noexcept;
//! C * sum(L^2): the output's second dimension, or -1 if it overflows / the config is invalid.
int64_t outputFeatures(PyramidConfig const& config, int64_t channels) noexcept;
//! Elements of the flat output [N, C * sum(L^2)], or -1 when invalid.
int64_t outputElements(SppDesc const& desc) noexcept;
//! Elements the input occupies in memory (N*C*H*W, or N*H*W*channelStride for kNHWC), or -1 when invalid.
int64_t inputElements(SppDesc const& desc) noexcept;
//! channelStride as used: c when 0 or layout is kNCHW.
int64_t effectiveChannelStride(SppDesc const& desc) noexcept;

} // namespace spp
