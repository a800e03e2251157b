// PluginField helpers shared by every plugin of the library:
//   FieldReader   reads typed fields from a PluginFieldCollection with messages that name the field, the value
//                 and what is allowed (the collection may come from the ONNX parser, Python, C++ or an engine);
//   FieldWriter   owns the data behind the collection a plugin returns from getFieldsToSerialize;
//   serializeFields / OwnedFields::deserialize   the same collection as a byte buffer, for IPluginV2 plugins.
#pragma once

#include "common/trtVersion.h"
#include "spp/spp.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace spp
{
namespace plugin
{

//! "kINT32", "kCHAR", ... for messages.
char const* toString(nvinfer1::PluginFieldType type) noexcept;

//! Bytes of one element of a field type, 0 for types this library never reads or writes.
size_t fieldElementSize(nvinfer1::PluginFieldType type) noexcept;

class FieldReader
{
public:
    //! `knownNames`: the names the creator's getFieldNames() lists; other names are reported as warnings and ignored.
    //! Check status() before reading: a null collection, a negative count, a null field name or a name given twice
    //! is an error.
    FieldReader(char const* pluginName, nvinfer1::PluginFieldCollection const* fc, char const* const* knownNames,
        int32_t nbKnownNames);

    Status const& status() const noexcept
    {
        return mStatus;
    }

    //! The field called `name`, or nullptr.
    nvinfer1::PluginField const* find(char const* name) const noexcept;

    //! A kINT32 array. `present` says whether the field was there; when it is not, `values` is left alone.
    Status readInt32Array(char const* name, std::vector<int32_t>& values, bool& present) const;

    //! A kFLOAT32 scalar (length 1; the ONNX parser passes a FLOAT attribute that way). `value` is left alone when the
    //! field is absent.
    Status readFloat32(char const* name, float& value, bool& present) const;

    //! A kCHAR string: `length` bytes, stopping at the first NUL (the ONNX parser counts the NUL, Python does not).
    Status readString(char const* name, std::string& value, bool& present) const;

private:
    Status checkCommon(nvinfer1::PluginField const& field, nvinfer1::PluginFieldType expected,
        char const* expectedText) const noexcept;

    char const* mPluginName;
    nvinfer1::PluginFieldCollection const* mFields;
    Status mStatus;
};

//! Owns the names and data of a field collection and keeps a PluginFieldCollection pointing at them.
class FieldWriter
{
public:
    FieldWriter() = default;
    //! Copies rebuild the collection so that it points into the copy's own storage. No move members are
    //! declared, so moves copy too (a deleted move would make `return writer;` ill-formed; g++ 13 rejects it).
    FieldWriter(FieldWriter const& other);
    FieldWriter& operator=(FieldWriter const& other);
    ~FieldWriter() = default;

    void clear();
    void addInt32Array(char const* name, int32_t const* values, int32_t count);
    //! Written NUL-terminated with the NUL counted in `length`, the way the ONNX parser passes strings.
    void addString(char const* name, char const* text);
    //! Any field, copied.
    void addRaw(char const* name, nvinfer1::PluginFieldType type, void const* data, int32_t length, size_t bytes);

    //! Valid until the next call of a non-const method.
    nvinfer1::PluginFieldCollection const* collection() noexcept
    {
        return &mCollection;
    }

private:
    void rebuild();

    std::vector<std::string> mNames;
    std::vector<std::vector<uint8_t>> mData;
    std::vector<nvinfer1::PluginFieldType> mTypes;
    std::vector<int32_t> mLengths;
    std::vector<nvinfer1::PluginField> mFields;
    nvinfer1::PluginFieldCollection mCollection{};
};

//! Bytes serializeFields writes for `fc`; 0 if a field has a type with no known element size.
size_t serializedFieldsSize(nvinfer1::PluginFieldCollection const& fc) noexcept;
//! Writes `fc` into `buffer` (serializedFieldsSize bytes). Little-endian host layout, versioned with a magic word.
void serializeFields(nvinfer1::PluginFieldCollection const& fc, void* buffer) noexcept;

//! A field collection read back from serializeFields' buffer.
class OwnedFields
{
public:
    //! Checks every length against `size`; a truncated or foreign buffer is an error, never a crash.
    Status deserialize(void const* data, size_t size);

    nvinfer1::PluginFieldCollection const* collection() noexcept
    {
        return mWriter.collection();
    }

private:
    FieldWriter mWriter;
};

} // namespace plugin
} // namespace spp
