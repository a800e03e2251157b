// Plugin field collections built the way TensorRT's front ends build them, plus deliberately malformed ones.
//   OnnxAttributes::toFields  the ONNX parser: only attribute names the creator's getFieldNames() lists are passed;
//                             INTS -> kINT32 array, INT -> kINT32[1], FLOATS/FLOAT -> kFLOAT32, STRING -> kCHAR with
//                             the terminating NUL counted in length.
//   FieldList                 any fields at all (the Python / C++ API, or garbage).
#pragma once

#include <NvInferRuntime.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace spp
{
namespace harness
{

//! Owns names and data; collection() points into them.
class FieldList
{
public:
    FieldList() = default;
    FieldList(FieldList const&) = delete;
    FieldList& operator=(FieldList const&) = delete;

    FieldList& int32s(std::string const& name, std::vector<int32_t> const& values)
    {
        return raw(name, nvinfer1::PluginFieldType::kINT32, values.data(), static_cast<int32_t>(values.size()),
            values.size() * sizeof(int32_t));
    }
    //! `withNul`: count the terminating NUL in length (the ONNX parser does, Python's PluginField does not).
    FieldList& string(std::string const& name, std::string const& text, bool withNul = true)
    {
        return raw(name, nvinfer1::PluginFieldType::kCHAR, text.c_str(),
            static_cast<int32_t>(text.size() + (withNul ? 1 : 0)), text.size() + 1);
    }
    FieldList& floats(std::string const& name, std::vector<float> const& values)
    {
        return raw(name, nvinfer1::PluginFieldType::kFLOAT32, values.data(), static_cast<int32_t>(values.size()),
            values.size() * sizeof(float));
    }
    //! `bytes` bytes copied from `data` (nullptr keeps a null data pointer) with the given type and length.
    FieldList& raw(std::string const& name, nvinfer1::PluginFieldType type, void const* data, int32_t length,
        size_t bytes)
    {
        auto entry = std::make_unique<Entry>();
        entry->name = name;
        entry->hasData = data != nullptr;
        if (data != nullptr)
        {
            entry->data.resize(bytes + 8, 0);
            std::memcpy(entry->data.data(), data, bytes);
        }
        entry->type = type;
        entry->length = length;
        mEntries.push_back(std::move(entry));
        return *this;
    }
    FieldList& nullName(nvinfer1::PluginFieldType type)
    {
        raw("", type, nullptr, 0, 0);
        mEntries.back()->nullName = true;
        return *this;
    }

    nvinfer1::PluginFieldCollection const* collection()
    {
        mFields.clear();
        for (auto const& entry : mEntries)
        {
            mFields.emplace_back(entry->nullName ? nullptr : entry->name.c_str(),
                entry->hasData ? entry->data.data() : nullptr, entry->type, entry->length);
        }
        mCollection.nbFields = static_cast<int32_t>(mFields.size());
        mCollection.fields = mFields.empty() ? nullptr : mFields.data();
        return &mCollection;
    }

private:
    struct Entry
    {
        std::string name;
        std::vector<uint8_t> data;
        bool hasData{false};
        bool nullName{false};
        nvinfer1::PluginFieldType type{nvinfer1::PluginFieldType::kUNKNOWN};
        int32_t length{0};
    };
    std::vector<std::unique_ptr<Entry>> mEntries;
    std::vector<nvinfer1::PluginField> mFields;
    nvinfer1::PluginFieldCollection mCollection{};
};

//! The attributes of an ONNX node, converted to fields as the ONNX parser does.
class OnnxAttributes
{
public:
    OnnxAttributes& ints(std::string const& name, std::vector<int64_t> const& values)
    {
        mAttributes.push_back({name, Kind::kINTS, values, {}, {}});
        return *this;
    }
    OnnxAttributes& integer(std::string const& name, int64_t value)
    {
        mAttributes.push_back({name, Kind::kINT, {value}, {}, {}});
        return *this;
    }
    OnnxAttributes& floats(std::string const& name, std::vector<float> const& values)
    {
        mAttributes.push_back({name, Kind::kFLOATS, {}, values, {}});
        return *this;
    }
    OnnxAttributes& string(std::string const& name, std::string const& text)
    {
        mAttributes.push_back({name, Kind::kSTRING, {}, {}, text});
        return *this;
    }

    //! Fills `out` with the attributes whose names appear in `fieldNames` (the creator's getFieldNames()).
    void toFields(nvinfer1::PluginFieldCollection const* fieldNames, FieldList& out) const
    {
        for (auto const& attribute : mAttributes)
        {
            bool listed = false;
            for (int32_t i = 0; fieldNames != nullptr && i < fieldNames->nbFields; ++i)
            {
                listed = listed
                    || (fieldNames->fields[i].name != nullptr && attribute.name == fieldNames->fields[i].name);
            }
            if (!listed)
            {
                continue;
            }
            switch (attribute.kind)
            {
            case Kind::kINTS:
            case Kind::kINT:
            {
                std::vector<int32_t> narrowed(attribute.ints.begin(), attribute.ints.end());
                out.int32s(attribute.name, narrowed);
                break;
            }
            case Kind::kFLOATS: out.floats(attribute.name, attribute.floats); break;
            case Kind::kSTRING: out.string(attribute.name, attribute.text, true); break;
            }
        }
    }

private:
    enum class Kind
    {
        kINTS,
        kINT,
        kFLOATS,
        kSTRING,
    };
    struct Attribute
    {
        std::string name;
        Kind kind;
        std::vector<int64_t> ints;
        std::vector<float> floats;
        std::string text;
    };
    std::vector<Attribute> mAttributes;
};

} // namespace harness
} // namespace spp
