# FindTensorRT: TensorRT's public headers, and its libraries where they exist.
#
# Inputs (first one set wins):
#   -DTENSORRT_ROOT=<dir>        a TensorRT install (tarball layout: <dir>/include, <dir>/lib)
#   environment TENSORRT_ROOT
#   otherwise the system include/library paths (Debian packages put the headers in /usr/include/x86_64-linux-gnu).
#
# Results:
#   TensorRT_FOUND                 the headers (NvInfer.h, NvInferVersion.h) were found
#   TensorRT_INCLUDE_DIR           their directory
#   TensorRT_VERSION               e.g. 10.16.0 (from NvInferVersion.h); TensorRT_VERSION_MAJOR / _MINOR / _PATCH
#   TensorRT_LIBRARY_FOUND         libnvinfer was found as well (only then can anything be linked against TensorRT)
#   TensorRT_ONNXPARSER_FOUND      libnvonnxparser and NvOnnxParser.h were found
#   TensorRT::headers              INTERFACE target: the include directory (as SYSTEM), no libraries
#   TensorRT::nvinfer              IMPORTED target, only when TensorRT_LIBRARY_FOUND
#   TensorRT::nvonnxparser         IMPORTED target, only when TensorRT_ONNXPARSER_FOUND
#
# The plugin library uses only TensorRT::headers: it never links libnvinfer.

if(NOT DEFINED TENSORRT_ROOT OR "${TENSORRT_ROOT}" STREQUAL "")
    if(DEFINED ENV{TENSORRT_ROOT} AND NOT "$ENV{TENSORRT_ROOT}" STREQUAL "")
        set(TENSORRT_ROOT "$ENV{TENSORRT_ROOT}")
    endif()
endif()
set(TENSORRT_ROOT "${TENSORRT_ROOT}" CACHE PATH "TensorRT install directory (has include/NvInfer.h)")

# A changed root must not keep the previous root's cached results.
if(NOT "${TENSORRT_ROOT}" STREQUAL "${_SPP_TENSORRT_ROOT_LAST}")
    unset(TensorRT_INCLUDE_DIR CACHE)
    unset(TensorRT_NVINFER_LIBRARY CACHE)
    unset(TensorRT_NVONNXPARSER_LIBRARY CACHE)
    set(_SPP_TENSORRT_ROOT_LAST "${TENSORRT_ROOT}" CACHE INTERNAL "")
endif()

if(TENSORRT_ROOT)
    find_path(TensorRT_INCLUDE_DIR NAMES NvInferVersion.h PATHS "${TENSORRT_ROOT}" PATH_SUFFIXES include NO_DEFAULT_PATH)
    find_library(TensorRT_NVINFER_LIBRARY NAMES nvinfer nvinfer_10 PATHS "${TENSORRT_ROOT}"
        PATH_SUFFIXES lib lib64 targets/x86_64-linux-gnu/lib NO_DEFAULT_PATH)
    find_library(TensorRT_NVONNXPARSER_LIBRARY NAMES nvonnxparser PATHS "${TENSORRT_ROOT}"
        PATH_SUFFIXES lib lib64 targets/x86_64-linux-gnu/lib NO_DEFAULT_PATH)
else()
    find_path(TensorRT_INCLUDE_DIR NAMES NvInferVersion.h PATH_SUFFIXES include)
    find_library(TensorRT_NVINFER_LIBRARY NAMES nvinfer)
    find_library(TensorRT_NVONNXPARSER_LIBRARY NAMES nvonnxparser)
endif()

set(TensorRT_VERSION "")
if(TensorRT_INCLUDE_DIR AND EXISTS "${TensorRT_INCLUDE_DIR}/NvInferVersion.h"
    AND EXISTS "${TensorRT_INCLUDE_DIR}/NvInfer.h")
    file(READ "${TensorRT_INCLUDE_DIR}/NvInferVersion.h" _spp_trt_version_h)
    foreach(_part MAJOR MINOR PATCH)
        # 8.x: "#define NV_TENSORRT_MAJOR 8"; 10.x/11.x: "#define TRT_MAJOR_ENTERPRISE 10" and NV_TENSORRT_MAJOR aliases it.
        set(_value "")
        if(_spp_trt_version_h MATCHES "#define[ \t]+NV_TENSORRT_${_part}[ \t]+([0-9]+)")
            set(_value "${CMAKE_MATCH_1}")
        elseif(_spp_trt_version_h MATCHES "#define[ \t]+TRT_${_part}_ENTERPRISE[ \t]+([0-9]+)")
            set(_value "${CMAKE_MATCH_1}")
        endif()
        set(TensorRT_VERSION_${_part} "${_value}")
    endforeach()
    if(NOT "${TensorRT_VERSION_MAJOR}" STREQUAL "")
        set(TensorRT_VERSION "${TensorRT_VERSION_MAJOR}.${TensorRT_VERSION_MINOR}.${TensorRT_VERSION_PATCH}")
    endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TensorRT
    REQUIRED_VARS TensorRT_INCLUDE_DIR TensorRT_VERSION
    VERSION_VAR TensorRT_VERSION)

set(TensorRT_LIBRARY_FOUND FALSE)
set(TensorRT_ONNXPARSER_FOUND FALSE)
if(TensorRT_FOUND)
    if(NOT TARGET TensorRT::headers)
        add_library(TensorRT::headers INTERFACE IMPORTED)
        set_target_properties(TensorRT::headers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${TensorRT_INCLUDE_DIR}")
        # SYSTEM: warnings inside TensorRT's headers are not ours; deprecation notices at our call sites still show.
        set_target_properties(TensorRT::headers PROPERTIES
            INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${TensorRT_INCLUDE_DIR}")
    endif()
    if(TensorRT_NVINFER_LIBRARY)
        set(TensorRT_LIBRARY_FOUND TRUE)
        if(NOT TARGET TensorRT::nvinfer)
            add_library(TensorRT::nvinfer UNKNOWN IMPORTED)
            set_target_properties(TensorRT::nvinfer PROPERTIES IMPORTED_LOCATION "${TensorRT_NVINFER_LIBRARY}")
            target_link_libraries(TensorRT::nvinfer INTERFACE TensorRT::headers)
        endif()
    endif()
    if(TensorRT_LIBRARY_FOUND AND TensorRT_NVONNXPARSER_LIBRARY AND EXISTS "${TensorRT_INCLUDE_DIR}/NvOnnxParser.h")
        set(TensorRT_ONNXPARSER_FOUND TRUE)
        if(NOT TARGET TensorRT::nvonnxparser)
            add_library(TensorRT::nvonnxparser UNKNOWN IMPORTED)
            set_target_properties(TensorRT::nvonnxparser PROPERTIES
                IMPORTED_LOCATION "${TensorRT_NVONNXPARSER_LIBRARY}")
            target_link_libraries(TensorRT::nvonnxparser INTERFACE TensorRT::nvinfer)
        endif()
    endif()
endif()

mark_as_advanced(TensorRT_INCLUDE_DIR TensorRT_NVINFER_LIBRARY TensorRT_NVONNXPARSER_LIBRARY)
