#include "harness/exprBuilder.h"

#include <algorithm>
#include <stdexcept>

namespace spp
{
namespace harness
{

using nvinfer1::DimensionOperation;

Expr::Expr(Kind kind, int64_t value, int32_t symbol, DimensionOperation op, Expr const* first, Expr const* second,
    std::string name)
    : mKind(kind)
    , mValue(value)
    , mSymbol(symbol)
    , mOp(op)
    , mFirst(first)
    , mSecond(second)
    , mName(std::move(name))
    , mImplObject(*this)
{
    mImpl = &mImplObject;
}

Expr::~Expr() noexcept = default;

namespace
{

int64_t apply(DimensionOperation op, int64_t a, int64_t b)
{
    switch (op)
    {
    case DimensionOperation::kSUM: return a + b;
    case DimensionOperation::kPROD: return a * b;
    case DimensionOperation::kMAX: return std::max(a, b);
    case DimensionOperation::kMIN: return std::min(a, b);
    case DimensionOperation::kSUB: return a - b;
    case DimensionOperation::kEQUAL: return a == b ? 1 : 0;
    case DimensionOperation::kLESS: return a < b ? 1 : 0;
    case DimensionOperation::kFLOOR_DIV:
        if (b == 0)
        {
            throw std::domain_error("floor division by zero");
        }
        return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
    case DimensionOperation::kCEIL_DIV:
        if (b == 0)
        {
            throw std::domain_error("ceil division by zero");
        }
        return a / b + ((a % b != 0) && ((a < 0) == (b < 0)) ? 1 : 0);
    }
    throw std::domain_error("unknown DimensionOperation");
}

char const* opName(DimensionOperation op)
{
    switch (op)
    {
    case DimensionOperation::kSUM: return "+";
    case DimensionOperation::kPROD: return "*";
    case DimensionOperation::kMAX: return "max";
    case DimensionOperation::kMIN: return "min";
    case DimensionOperation::kSUB: return "-";
    case DimensionOperation::kEQUAL: return "==";
    case DimensionOperation::kLESS: return "<";
    case DimensionOperation::kFLOOR_DIV: return "floordiv";
    case DimensionOperation::kCEIL_DIV: return "ceildiv";
    }
    return "?";
}

} // namespace

int64_t Expr::evaluate(Bindings const& bindings) const
{
    switch (mKind)
    {
    case Kind::kCONSTANT: return mValue;
    case Kind::kSYMBOL: return bindings.at(mSymbol);
    case Kind::kOPERATION: return apply(mOp, mFirst->evaluate(bindings), mSecond->evaluate(bindings));
    }
    throw std::logic_error("bad expression kind");
}

std::string Expr::toString() const
{
    switch (mKind)
    {
    case Kind::kCONSTANT: return std::to_string(mValue);
    case Kind::kSYMBOL: return mName;
    case Kind::kOPERATION:
        return "(" + mFirst->toString() + " " + opName(mOp) + " " + mSecond->toString() + ")";
    }
    return "?";
}

bool Expr::Impl::isConstant() const
{
    return mOwner.mKind == Kind::kCONSTANT;
}

DimValue Expr::Impl::getConstantValue() const
{
    return mOwner.mKind == Kind::kCONSTANT ? static_cast<DimValue>(mOwner.mValue) : DimValue{-1};
}

ExprBuilder::ExprBuilder()
    : mImplObject(*this)
{
    mImpl = &mImplObject;
}

ExprBuilder::~ExprBuilder() noexcept = default;

Expr const* ExprBuilder::symbol(int32_t id, std::string const& name)
{
    mExprs.push_back(
        std::make_unique<Expr>(Expr::Kind::kSYMBOL, 0, id, DimensionOperation::kSUM, nullptr, nullptr, name));
    return mExprs.back().get();
}

Expr const* ExprBuilder::makeConstant(int64_t value)
{
    mExprs.push_back(
        std::make_unique<Expr>(Expr::Kind::kCONSTANT, value, -1, DimensionOperation::kSUM, nullptr, nullptr, ""));
    return mExprs.back().get();
}

bool ExprBuilder::owns(nvinfer1::IDimensionExpr const* expr) const noexcept
{
    return std::any_of(mExprs.begin(), mExprs.end(), [expr](auto const& e) { return e.get() == expr; });
}

Expr const* ExprBuilder::makeOperation(
    DimensionOperation op, nvinfer1::IDimensionExpr const& first, nvinfer1::IDimensionExpr const& second)
{
    Expr const* const a = asExpr(&first);
    Expr const* const b = asExpr(&second);
    if (a == nullptr || b == nullptr || !owns(a) || !owns(b))
    {
        return nullptr; // TensorRT would reject expressions from elsewhere too
    }
    // Like TensorRT, fold constant operands into a constant.
    if (a->kind() == Expr::Kind::kCONSTANT && b->kind() == Expr::Kind::kCONSTANT)
    {
        return makeConstant(apply(op, a->evaluate({}), b->evaluate({})));
    }
    mExprs.push_back(std::make_unique<Expr>(Expr::Kind::kOPERATION, 0, -1, op, a, b, ""));
    return mExprs.back().get();
}

nvinfer1::IDimensionExpr const* ExprBuilder::Impl::constant(DimValue value)
{
    return mOwner.makeConstant(value);
}

nvinfer1::IDimensionExpr const* ExprBuilder::Impl::operation(
    DimensionOperation op, nvinfer1::IDimensionExpr const& first, nvinfer1::IDimensionExpr const& second)
{
    return mOwner.makeOperation(op, first, second);
}

Expr const* asExpr(nvinfer1::IDimensionExpr const* expr) noexcept
{
    return dynamic_cast<Expr const*>(expr);
}

} // namespace harness
} // namespace spp
