// A stand-in for TensorRT's IExprBuilder: symbolic dimension expressions that the harness can evaluate for any
// concrete shape. TensorRT's IExprBuilder / IDimensionExpr are thin wrappers around apiv::VExprBuilder /
// apiv::VDimensionExpr implementations; this file provides those implementations.
#pragma once

#include <NvInferRuntime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace spp
{
namespace harness
{

#if NV_TENSORRT_MAJOR >= 10
using DimValue = int64_t;
#else
using DimValue = int32_t;
#endif

//! Values of the symbols of an expression: symbol id -> value.
using Bindings = std::map<int32_t, int64_t>;

class Expr final : public nvinfer1::IDimensionExpr
{
public:
    enum class Kind
    {
        kCONSTANT,
        kSYMBOL,
        kOPERATION,
    };

    Expr(Kind kind, int64_t value, int32_t symbol, nvinfer1::DimensionOperation op, Expr const* first,
        Expr const* second, std::string name);
    ~Expr() noexcept override;

    Kind kind() const noexcept
    {
        return mKind;
    }
    //! The value for `bindings`; throws std::out_of_range for an unbound symbol, std::domain_error for x / 0.
    int64_t evaluate(Bindings const& bindings) const;
    std::string toString() const;

private:
    class Impl final : public nvinfer1::apiv::VDimensionExpr
    {
    public:
        explicit Impl(Expr const& owner)
            : mOwner(owner)
        {
        }
        bool isConstant() const override;
        DimValue getConstantValue() const override;
#if NV_TENSORRT_MAJOR >= 10
        bool isSizeTensor() const override
        {
            return false;
        }
#endif

    private:
        Expr const& mOwner;
    };

    Kind mKind;
    int64_t mValue;
    int32_t mSymbol;
    nvinfer1::DimensionOperation mOp;
    Expr const* mFirst;
    Expr const* mSecond;
    std::string mName;
    Impl mImplObject;
};

class ExprBuilder final : public nvinfer1::IExprBuilder
{
public:
    ExprBuilder();
    ~ExprBuilder() noexcept override;

    //! A named unknown (a dynamic input dimension); `id` is its key in Bindings.
    Expr const* symbol(int32_t id, std::string const& name);
    Expr const* makeConstant(int64_t value);
    Expr const* makeOperation(nvinfer1::DimensionOperation op, nvinfer1::IDimensionExpr const& first,
        nvinfer1::IDimensionExpr const& second);
    //! How many expressions the plugin (and the harness) made.
    size_t size() const noexcept
    {
        return mExprs.size();
    }
    //! Whether `expr` was made by this builder (plugins must only combine expressions they were given).
    bool owns(nvinfer1::IDimensionExpr const* expr) const noexcept;

private:
    class Impl final : public nvinfer1::apiv::VExprBuilder
    {
    public:
        explicit Impl(ExprBuilder& owner)
            : mOwner(owner)
        {
        }
        nvinfer1::IDimensionExpr const* constant(DimValue value) override;
        nvinfer1::IDimensionExpr const* operation(nvinfer1::DimensionOperation op,
            nvinfer1::IDimensionExpr const& first, nvinfer1::IDimensionExpr const& second) override;
#if NV_TENSORRT_MAJOR >= 10
        nvinfer1::IDimensionExpr const* declareSizeTensor(
            int32_t, nvinfer1::IDimensionExpr const&, nvinfer1::IDimensionExpr const&) override
        {
            return nullptr;
        }
#endif

    private:
        ExprBuilder& mOwner;
    };

    std::vector<std::unique_ptr<Expr>> mExprs;
    Impl mImplObject;
};

//! The harness's expression behind a TensorRT expression pointer (nullptr if it is not one of ours).
Expr const* asExpr(nvinfer1::IDimensionExpr const* expr) noexcept;

} // namespace harness
} // namespace spp
