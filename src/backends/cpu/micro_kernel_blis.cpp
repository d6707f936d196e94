// BLIS's micro-kernel for this CPU (bli_sgemm_haswell_asm_6x16 on AVX2 machines) and its block
// sizes, read from BLIS's context once; nothing global in BLIS is configured.
#include <blis.h>

#include "backends/cpu/micro_kernel.h"

namespace ane::cpu {
namespace {

using BlisKernel = void (*)(dim_t m, dim_t n, dim_t k, float* alpha, float* a, float* b, float* beta, float* c,
                            inc_t rs_c, inc_t cs_c, auxinfo_t* data, cntx_t* cntx);

struct Blis {
  cntx_t* cntx;
  BlisKernel kernel;
};

const Blis& blis() {
  static const Blis b = [] {
    cntx_t* cntx = bli_gks_query_cntx();
    return Blis{cntx, reinterpret_cast<BlisKernel>(bli_cntx_get_l3_nat_ukr_dt(BLIS_FLOAT, BLIS_GEMM_UKR, cntx))};
  }();
  return b;
}

void blis_tile(int64_t mr, int64_t nr, int64_t k, const float* a, const float* b, float beta, float* c, int64_t rs_c,
               int64_t cs_c, const float* next_a, const float* next_b) {
  const Blis& u = blis();
  auxinfo_t aux{};
  bli_auxinfo_set_next_a(const_cast<float*>(next_a), &aux);
  bli_auxinfo_set_next_b(const_cast<float*>(next_b), &aux);
  float one = 1.0f;
  u.kernel(mr, nr, k, &one, const_cast<float*>(a), const_cast<float*>(b), &beta, c, rs_c, cs_c, &aux, u.cntx);
}

}  // namespace

const MicroKernel& blis_micro_kernel() {
  static const MicroKernel m = [] {
    cntx_t* cntx = blis().cntx;
    MicroKernel u{"", blis_tile, 0, 0, 0, 0, false};
    u.mr = bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_MR, cntx);
    u.nr = bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_NR, cntx);
    u.name = std::string("BLIS ") + bli_info_get_version_str() + " " + std::to_string(u.mr) + "x" + std::to_string(u.nr);
    u.mc = bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_MC, cntx);
    u.kc = bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_KC, cntx);
    u.prefers_cols = bli_cntx_l3_nat_ukr_prefers_cols_dt(BLIS_FLOAT, BLIS_GEMM_UKR, cntx);
    return u;
  }();
  return m;
}

}  // namespace ane::cpu
