// LOCO_HD marks per-element math that the CPU and CUDA twins share (__host__ __device__ under
// nvcc, plain inline elsewhere). Headers included by .cu files stay C++17-clean.
#pragma once
#ifdef __CUDACC__
#define LOCO_HD __host__ __device__ __forceinline__
#else
#define LOCO_HD inline
#endif
