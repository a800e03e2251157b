#include "common/fieldIO.h"

#include "common/logger.h"

#include <cstring>

namespace spp
{
namespace plugin
{

using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;

char const* toString(PluginFieldType type) noexcept
{
    switch (type)
    {
    case PluginFieldType::kFLOAT16: return "kFLOAT16";
    case PluginFieldType::kFLOAT32: return "kFLOAT32";
    case PluginFieldType::kFLOAT64: return "kFLOAT64";
    case PluginFieldType::kINT8: return "kINT8";
    case PluginFieldType::kINT16: return "kINT16";
    case PluginFieldType::kINT32: return "kINT32";
    case PluginFieldType::kCHAR: return "kCHAR";
    case PluginFieldType::kDIMS: return "kDIMS";
    case PluginFieldType::kUNKNOWN: return "kUNKNOWN";
#if NV_TENSORRT_MAJOR >= 9
    case PluginFieldType::kBF16: return "kBF16";
    case PluginFieldType::kINT64: return "kINT64";
    case PluginFieldType::kFP8: return "kFP8";
#endif
#if NV_TENSORRT_MAJOR >= 10
    case PluginFieldType::kINT4: return "kINT4";
#endif
    default: break;
    }
    return "an unknown PluginFieldType";
}

size_t fieldElementSize(PluginFieldType type) noexcept
{
    switch (type)
    {
    case PluginFieldType::kFLOAT16: return 2;
    case PluginFieldType::kFLOAT32: return 4;
    case PluginFieldType::kFLOAT64: return 8;
    case PluginFieldType::kINT8: return 1;
    case PluginFieldType::kINT16: return 2;
    case PluginFieldType::kINT32: return 4;
    case PluginFieldType::kCHAR: return 1;
    case PluginFieldType::kDIMS: return sizeof(nvinfer1::Dims);
#if NV_TENSORRT_MAJOR >= 9
    case PluginFieldType::kBF16: return 2;
    case PluginFieldType::kINT64: return 8;
    case PluginFieldType::kFP8: return 1;
#endif
    default: break;
    }
    return 0;
}

FieldReader::FieldReader(
    char const* pluginName, PluginFieldCollection const* fc, char const* const* knownNames, int32_t nbKnownNames)
    : mPluginName(pluginName)
    , mFields(fc)
{
    if (fc == nullptr)
    {
        mStatus = Status::error("%s: the PluginFieldCollection is null", pluginName);
        return;
    }
    if (fc->nbFields < 0 || (fc->nbFields > 0 && fc->fields == nullptr))
    {
        mStatus = Status::error("%s: the PluginFieldCollection has nbFields = %d and fields = %p", pluginName,
            fc->nbFields, static_cast<void const*>(fc->fields));
        return;
    }
    for (int32_t i = 0; i < fc->nbFields; ++i)
    {
        char const* const name = fc->fields[i].name;
        if (name == nullptr)
        {
            mStatus = Status::error("%s: field %d of %d has no name", pluginName, i, fc->nbFields);
            return;
        }
        for (int32_t j = 0; j < i; ++j)
        {
            if (std::strcmp(fc->fields[j].name, name) == 0)
            {
                mStatus = Status::error("%s: field '%s' is given more than once", pluginName, name);
                return;
            }
        }
        bool known = false;
        for (int32_t k = 0; k < nbKnownNames; ++k)
        {
            known = known || std::strcmp(knownNames[k], name) == 0;
        }
        if (!known)
        {
            SPP_LOG_WARNING("%s: ignoring unknown field '%s'", pluginName, name);
        }
    }
}

PluginField const* FieldReader::find(char const* name) const noexcept
{
    if (!mStatus.ok())
    {
        return nullptr;
    }
    for (int32_t i = 0; i < mFields->nbFields; ++i)
    {
        if (std::strcmp(mFields->fields[i].name, name) == 0)
        {
            return &mFields->fields[i];
        }
    }
    return nullptr;
}

Status FieldReader::checkCommon(PluginField const& field, PluginFieldType expected, char const* expectedText) const
    noexcept
{
    if (field.type != expected)
    {
        return Status::error("%s: field '%s' has type %s; expected %s", mPluginName, field.name,
            toString(field.type), expectedText);
    }
    if (field.length < 0)
    {
        return Status::error("%s: field '%s' has length %d; expected a length >= 0", mPluginName, field.name,
            field.length);
    }
    if (field.length > 0 && field.data == nullptr)
    {
        return Status::error("%s: field '%s' has length %d but its data is null", mPluginName, field.name,
            field.length);
    }
    return Status::success();
}

Status FieldReader::readInt32Array(char const* name, std::vector<int32_t>& values, bool& present) const
{
    present = false;
    if (!mStatus.ok())
    {
        return mStatus;
    }
    PluginField const* const field = find(name);
    if (field == nullptr)
    {
        return Status::success();
    }
    Status const status = checkCommon(*field, PluginFieldType::kINT32, "kINT32 (an INT32 array; ONNX INTS)");
    if (!status.ok())
    {
        return status;
    }
    values.resize(static_cast<size_t>(field->length));
    if (field->length > 0)
    {
        std::memcpy(values.data(), field->data, values.size() * sizeof(int32_t));
    }
    present = true;
    return Status::success();
}

Status FieldReader::readFloat32(char const* name, float& value, bool& present) const
{
    present = false;
    if (!mStatus.ok())
    {
        return mStatus;
    }
    PluginField const* const field = find(name);
    if (field == nullptr)
    {
        return Status::success();
    }
    Status const status = checkCommon(*field, PluginFieldType::kFLOAT32, "kFLOAT32 (one float; ONNX FLOAT)");
    if (!status.ok())
    {
        return status;
    }
    if (field->length != 1)
    {
        return Status::error(
            "%s: field '%s' has length %d; expected exactly 1 kFLOAT32 value", mPluginName, field->name, field->length);
    }
    std::memcpy(&value, field->data, sizeof(float));
    present = true;
    return Status::success();
}

Status FieldReader::readString(char const* name, std::string& value, bool& present) const
{
    present = false;
    if (!mStatus.ok())
    {
        return mStatus;
    }
    PluginField const* const field = find(name);
    if (field == nullptr)
    {
        return Status::success();
    }
    Status const status = checkCommon(*field, PluginFieldType::kCHAR, "kCHAR (a string; ONNX STRING)");
    if (!status.ok())
    {
        return status;
    }
    char const* const text = static_cast<char const*>(field->data);
    size_t length = 0;
    while (length < static_cast<size_t>(field->length) && text[length] != '\0')
    {
        ++length;
    }
    value.assign(text == nullptr ? "" : text, length);
    present = true;
    return Status::success();
}

void FieldWriter::clear()
{
    mNames.clear();
    mData.clear();
    mTypes.clear();
    mLengths.clear();
    rebuild();
}

void FieldWriter::addRaw(char const* name, PluginFieldType type, void const* data, int32_t length, size_t bytes)
{
    mNames.emplace_back(name);
    auto const* const begin = static_cast<uint8_t const*>(data);
    mData.emplace_back(begin, begin + (data == nullptr ? 0 : bytes));
    mTypes.push_back(type);
    mLengths.push_back(length);
    rebuild();
}

void FieldWriter::addInt32Array(char const* name, int32_t const* values, int32_t count)
{
    addRaw(name, PluginFieldType::kINT32, values, count, static_cast<size_t>(count) * sizeof(int32_t));
}

void FieldWriter::addString(char const* name, char const* text)
{
    size_t const bytes = std::strlen(text) + 1;
    addRaw(name, PluginFieldType::kCHAR, text, static_cast<int32_t>(bytes), bytes);
}

FieldWriter::FieldWriter(FieldWriter const& other)
    : mNames(other.mNames)
    , mData(other.mData)
    , mTypes(other.mTypes)
    , mLengths(other.mLengths)
{
    rebuild();
}

FieldWriter& FieldWriter::operator=(FieldWriter const& other)
{
    if (this != &other)
    {
        mNames = other.mNames;
        mData = other.mData;
        mTypes = other.mTypes;
        mLengths = other.mLengths;
        rebuild();
    }
    return *this;
}

void FieldWriter::rebuild()
{
    mFields.clear();
    for (size_t i = 0; i < mNames.size(); ++i)
    {
        mFields.emplace_back(mNames[i].c_str(), mData[i].empty() ? nullptr : mData[i].data(), mTypes[i], mLengths[i]);
    }
    mCollection.nbFields = static_cast<int32_t>(mFields.size());
    mCollection.fields = mFields.empty() ? nullptr : mFields.data();
}

namespace
{

constexpr uint32_t kFIELDS_MAGIC = 0x46505053U; // "SPPF"
constexpr uint32_t kFIELDS_FORMAT = 1U;

template <typename T>
void put(uint8_t*& cursor, T const& value) noexcept
{
    std::memcpy(cursor, &value, sizeof(T));
    cursor += sizeof(T);
}

class ByteReader
{
public:
    ByteReader(void const* data, size_t size) noexcept
        : mCursor(static_cast<uint8_t const*>(data))
        , mLeft(data == nullptr ? 0 : size)
    {
    }
    template <typename T>
    bool get(T& value) noexcept
    {
        return bytes(&value, sizeof(T));
    }
    bool bytes(void* destination, size_t count) noexcept
    {
        if (count > mLeft)
        {
            return false;
        }
        if (count > 0)
        {
            std::memcpy(destination, mCursor, count);
        }
        mCursor += count;
        mLeft -= count;
        return true;
    }
    size_t left() const noexcept
    {
        return mLeft;
    }

private:
    uint8_t const* mCursor;
    size_t mLeft;
};

size_t fieldDataBytes(PluginField const& field) noexcept
{
    return field.data == nullptr || field.length <= 0 ? 0
                                                      : static_cast<size_t>(field.length) * fieldElementSize(field.type);
}

} // namespace

size_t serializedFieldsSize(PluginFieldCollection const& fc) noexcept
{
    size_t size = 3 * sizeof(uint32_t);
    for (int32_t i = 0; i < fc.nbFields; ++i)
    {
        PluginField const& field = fc.fields[i];
        if (fieldElementSize(field.type) == 0)
        {
            return 0;
        }
        size += sizeof(uint32_t) + std::strlen(field.name) + 2 * sizeof(int32_t) + sizeof(uint64_t)
            + fieldDataBytes(field);
    }
    return size;
}

void serializeFields(PluginFieldCollection const& fc, void* buffer) noexcept
{
    auto* cursor = static_cast<uint8_t*>(buffer);
    put(cursor, kFIELDS_MAGIC);
    put(cursor, kFIELDS_FORMAT);
    put(cursor, static_cast<uint32_t>(fc.nbFields));
    for (int32_t i = 0; i < fc.nbFields; ++i)
    {
        PluginField const& field = fc.fields[i];
        auto const nameBytes = static_cast<uint32_t>(std::strlen(field.name));
        put(cursor, nameBytes);
        std::memcpy(cursor, field.name, nameBytes);
        cursor += nameBytes;
        put(cursor, static_cast<int32_t>(field.type));
        put(cursor, field.length);
        uint64_t const dataBytes = fieldDataBytes(field);
        put(cursor, dataBytes);
        if (dataBytes > 0)
        {
            std::memcpy(cursor, field.data, dataBytes);
            cursor += dataBytes;
        }
    }
}

Status OwnedFields::deserialize(void const* data, size_t size)
{
    constexpr uint32_t kMAX_FIELDS = 64;
    constexpr uint32_t kMAX_NAME = 256;
    mWriter.clear();
    ByteReader reader(data, size);
    uint32_t magic = 0;
    uint32_t format = 0;
    uint32_t count = 0;
    if (!reader.get(magic) || !reader.get(format) || !reader.get(count) || magic != kFIELDS_MAGIC
        || format != kFIELDS_FORMAT)
    {
        return Status::error("serialized plugin data (%zu bytes) is not an spp-trt field buffer of format %u", size,
            kFIELDS_FORMAT);
    }
    if (count > kMAX_FIELDS)
    {
        return Status::error("serialized plugin data claims %u fields; at most %u are allowed", count, kMAX_FIELDS);
    }
    for (uint32_t i = 0; i < count; ++i)
    {
        uint32_t nameBytes = 0;
        char name[kMAX_NAME + 1]{};
        int32_t type = 0;
        int32_t length = 0;
        uint64_t dataBytes = 0;
        if (!reader.get(nameBytes) || nameBytes > kMAX_NAME || !reader.bytes(name, nameBytes) || !reader.get(type)
            || !reader.get(length) || !reader.get(dataBytes) || dataBytes > reader.left() || length < 0)
        {
            return Status::error("serialized plugin data is truncated or corrupt at field %u of %u", i, count);
        }
        auto const fieldType = static_cast<PluginFieldType>(type);
        size_t const elementSize = fieldElementSize(fieldType);
        if (elementSize == 0 || dataBytes != static_cast<uint64_t>(length) * elementSize)
        {
            return Status::error("serialized plugin data: field '%s' has type %d, length %d and %llu bytes", name,
                type, length, static_cast<unsigned long long>(dataBytes));
        }
        std::vector<uint8_t> bytes(static_cast<size_t>(dataBytes));
        reader.bytes(bytes.data(), bytes.size());
        mWriter.addRaw(name, fieldType, bytes.empty() ? nullptr : bytes.data(), length, bytes.size());
    }
    if (reader.left() != 0)
    {
        return Status::error("serialized plugin data has %zu trailing bytes", reader.left());
    }
    return Status::success();
}

} // namespace plugin
} // namespace spp
