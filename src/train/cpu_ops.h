// CPU-side training ops (the seed's stories_cpu_ops.h), fp32, activations channel-first
// [C, S] (element c * S + s), matrices [out, in] row-major. Written as clear loops over
// contiguous rows so the compiler vectorises them (the weight gradient is one GEMM);
// tests/train/cpu_ops_test.cpp checks each against its float64 definition. Sizes are the
// caller's contract (spans are checked where cheap).
#pragma once

#include <cstdint>
#include <span>

#include "backends/cpu/blas.h"
#include "core/fp16.h"
#include "core/status.h"
#include "core/thread_pool.h"

namespace ane::train {

// out [d, S] = x * rsqrt(mean_c(x^2) + eps) * w[c]; w [d].
void rmsnorm(std::span<float> out, std::span<const float> x, std::span<const float> w, int d, int S, float eps);
// dx [d, S] of rmsnorm given dy [d, S]; accumulates dw [d] += sum_s dy * x * r.
void rmsnorm_backward(std::span<float> dx, std::span<float> dw, std::span<const float> dy, std::span<const float> x,
                      std::span<const float> w, int d, int S, float eps);

// Adam(W) state of one tensor; t counts steps from 1 for bias correction.
struct AdamParams {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.0f;  // decoupled (AdamW); 0 = Adam
  float grad_scale = 1.0f;    // the gradient used is grad_scale * g (unscaling and clipping in the same pass)
};
// w -= lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w), updating m and v in place.
// With `w_half` (w's size), the updated w is also written there in fp16, block by block while
// it is in cache (the dynamic pipeline's weight surfaces, without a second pass over w).
void adamw_update(std::span<float> w, std::span<const float> g, std::span<float> m, std::span<float> v, int t,
                  const AdamParams& p, std::span<half_bits> w_half = {});

// Mean cross-entropy over S positions of logits [V, S]; writes dlogits [V, S] =
// grad_scale * (softmax - onehot(target)) / S (grad_scale > 0: the loss scale, folded with
// 1/S into the softmax's write). Targets out of [0, V) and a grad_scale that is not positive
// are errors. With a pool, the softmax runs in parallel (cpu::softmax_columns).
Expected<float> cross_entropy(std::span<float> dlogits, std::span<const float> logits,
                              std::span<const uint16_t> targets, int V, int S, float grad_scale = 1.0f,
                              ThreadPool* pool = nullptr);

// x [dim, S] = embedding[tokens[s]] (embedding [V, dim]).
Status embed_lookup(std::span<float> x, std::span<const float> embedding, std::span<const uint16_t> tokens, int V,
                    int dim, int S);
// d_embedding [V, dim] += scatter of dx [dim, S] by token.
void embed_backward(std::span<float> d_embedding, std::span<const float> dx, std::span<const uint16_t> tokens,
                    int dim, int S);

// dh [n] = dy * silu'(h): silu'(h) = sig(h) * (1 + h * (1 - sig(h))).
void silu_backward(std::span<float> dh, std::span<const float> dy, std::span<const float> h);

// dw [out, in] = beta * dw + dy [out, S] x [in, S]^T (a linear layer's weight gradient; beta
// 0 overwrites, 1 accumulates), one GEMM (split over `pool` when given). dy and x are blocks
// of rows S long (MatrixRef: row stride rs, cs 1), fp32 or fp16 (e.g. taps in a surface).
// squares, when given, receives the sum of dw's squares afterwards (for the gradient norm).
void linear_weight_grad(std::span<float> dw, cpu::MatrixRef dy, cpu::MatrixRef x, int out, int in, int S,
                        ThreadPool* pool = nullptr, float beta = 1.0f, double* squares = nullptr);
// A [rows, S] fp32 block as linear_weight_grad reads it.
inline cpu::MatrixRef rows_of(std::span<const float> x, int64_t S) { return {x.data(), S, 1}; }

}  // namespace ane::train
