/* Bayer -> luma: the vector kernels, written once for every instruction set.
 * Included by bayer_sse2.c and bayer_avx2.c after they define, for their
 * vector type: VT, VW (bytes per vector), V_LOAD(p), V_STORE(p, v), V_STORE_A(p, v)
 * (aligned),
 * V_SET16(k), V_SLL8(v), V_SRL8(v), V_SRL2(v), V_AND(a, b), V_OR(a, b), V_ADD(a, b),
 * V_AVG(a, b) (unsigned 16-bit rounding average), V_MULHI(a, b) (unsigned
 * 16-bit high product), V_PACK(a, b) (16-bit lanes -> bytes, in order), and
 * KNAME(x) (the function name for kernel part x).
 *
 * How a row is vectorised without shuffles: loading VW bytes at pixel p as
 * 16-bit lanes puts pixel p + 2i in the low byte of lane i and p + 2i + 1
 * in the high byte. V_SLL8 (lane << 8) gives the "A" pixels (p + 2i) times
 * 256 and V_AND with 0xff00 the "B" pixels (p + 2i + 1) times 256, which are
 * exactly the operands C of bayer_internal.h; the neighbours come from the
 * loads at p - 1 and p + 1, and V_AVG of two such operands is their sum
 * times 128 exactly (the sum is even, so the rounding average does not
 * round). All A pixels share one Bayer site and all B pixels the other, so
 * the weights are constant per loop. The A results land in the low bytes
 * ((S + 128) >> 8) and the B results in the high bytes ((S + 128) & 0xff00):
 * one V_OR makes VW output bytes in order. Every value is the integer the
 * scalar definition computes, so the bytes are identical.
 */

static inline VT KNAME(lo)(VT v) { return V_SLL8(v); }
static inline VT KNAME(hi)(VT v, VT ff00) { return V_AND(v, ff00); }

/* Output pixels p .. p + VW - 1 of a row; needs pixels p - 1 .. p + VW.
 * a_green: the A pixels (parity of p) are green sites; ka: the A pixels'
 * weights (centre, k1, k2), kb: the B pixels'. aligned: o is VW-aligned. */
static inline void KNAME(block)(const uint8_t *u, const uint8_t *m,
                                const uint8_t *d, uint8_t *o, int a_green,
                                const VT *ka, const VT *kb, VT ff00, VT r128,
                                int aligned) {
  VT m0 = V_LOAD(m), u0 = V_LOAD(u), d0 = V_LOAD(d);
  VT ca = KNAME(lo)(m0), cb = KNAME(hi)(m0, ff00);
  VT ha = V_AVG(KNAME(lo)(V_LOAD(m - 1)), cb);
  VT hb = V_AVG(ca, KNAME(hi)(V_LOAD(m + 1), ff00));
  VT va = V_AVG(KNAME(lo)(u0), KNAME(lo)(d0));
  VT vb = V_AVG(KNAME(hi)(u0, ff00), KNAME(hi)(d0, ff00));
  VT sa, sb;
  if (a_green) {
    VT va2 = V_AVG(KNAME(hi)(V_LOAD(u + 1), ff00), KNAME(hi)(V_LOAD(d + 1), ff00));
    sa = V_ADD(V_ADD(V_MULHI(ca, ka[0]), V_MULHI(ha, ka[1])), V_MULHI(va, ka[2]));
    sb = V_ADD(V_ADD(V_MULHI(cb, kb[0]), V_MULHI(V_AVG(hb, vb), kb[1])),
               V_MULHI(V_AVG(va, va2), kb[2]));
  } else {
    VT vbm = V_AVG(KNAME(lo)(V_LOAD(u - 1)), KNAME(lo)(V_LOAD(d - 1)));
    sa = V_ADD(V_ADD(V_MULHI(ca, ka[0]), V_MULHI(V_AVG(ha, va), ka[1])),
               V_MULHI(V_AVG(vbm, vb), ka[2]));
    sb = V_ADD(V_ADD(V_MULHI(cb, kb[0]), V_MULHI(hb, kb[1])), V_MULHI(vb, kb[2]));
  }
  VT out = V_OR(V_SRL8(V_ADD(sa, r128)), V_AND(V_ADD(sb, r128), ff00));
  if (aligned) V_STORE_A(o, out);
  else V_STORE(o, out);
}

/* Blocks at p, p + VW, ... while p + VW <= end. Returns the next p. */
static inline int KNAME(blocks)(const uint8_t *up, const uint8_t *mid,
                                const uint8_t *dn, uint8_t *o, int p, int end,
                                int gpar, const VT k[2][3], VT ff00, VT r128,
                                int aligned) {
  int pa = p & 1;
  if (pa == gpar)
    for (; p + VW <= end; p += VW)
      KNAME(block)(up + p, mid + p, dn + p, o + p, 1, k[pa], k[pa ^ 1], ff00, r128, aligned);
  else
    for (; p + VW <= end; p += VW)
      KNAME(block)(up + p, mid + p, dn + p, o + p, 0, k[pa], k[pa ^ 1], ff00, r128, aligned);
  return p;
}

/* The vector part covers [max(xa, 1), min(xb, w - 1)): a first unaligned
 * block, aligned stores from there (overlapping the first block: the same
 * bytes are written twice), a last unaligned block ending at the limit; the
 * scalar definition does what is left (the frame's first and last columns,
 * and rows too short for one block). */
void KNAME(row)(const uint8_t *up, const uint8_t *mid, const uint8_t *dn,
                int w, int xa, int xb, uint8_t *out, const pv__luma_row *k) {
  int x = xa, end = xb < w - 1 ? xb : w - 1;
  uint8_t *o = out - xa; /* o[x]: output of pixel x */
  for (; x < xb && x < 1; x++) o[x] = pv__luma_px(up, mid, dn, x, w, k);
  if (x + VW <= end) {
    VT kv[2][3];
    for (int p = 0; p < 2; p++) {
      kv[p][0] = V_SET16(k->kc[p]);
      kv[p][1] = V_SET16(k->k1[p]);
      kv[p][2] = V_SET16(k->k2[p]);
    }
    VT ff00 = V_SET16(0xff00), r128 = V_SET16(128);
    int next = KNAME(blocks)(up, mid, dn, o, x, x + VW, k->gpar, kv, ff00, r128, 0);
    int mis = (int)((uintptr_t)(o + next) & (VW - 1));
    x = KNAME(blocks)(up, mid, dn, o, next - mis, end, k->gpar, kv, ff00, r128, 1);
    if (x < end)
      x = KNAME(blocks)(up, mid, dn, o, end - VW, end, k->gpar, kv, ff00, r128, 0);
  }
  for (; x < xb; x++) o[x] = pv__luma_px(up, mid, dn, x, w, k);
}

/* VW / 2 cells from a and b (VW bytes each). */
static inline VT KNAME(cells)(const uint8_t *a, const uint8_t *b,
                              const pv__luma_cell *c, VT kx0, VT kx1, VT kg,
                              VT ff00, VT r) {
  VT va = V_LOAD(a), vb = V_LOAD(b), s;
  if (c == NULL) { /* Mono8: (a0 + a1 + b0 + b1 + 2) >> 2 */
    VT ff = V_SET16(0x00ff);
    s = V_ADD(V_ADD(V_AND(va, ff), V_SRL8(va)), V_ADD(V_AND(vb, ff), V_SRL8(vb)));
    return V_SRL2(V_ADD(s, r));
  }
  if (c->gdiag)
    s = V_ADD(V_ADD(V_MULHI(KNAME(lo)(va), kx0),
                    V_MULHI(V_AVG(KNAME(hi)(va, ff00), KNAME(lo)(vb)), kg)),
              V_MULHI(KNAME(hi)(vb, ff00), kx1));
  else
    s = V_ADD(V_ADD(V_MULHI(KNAME(hi)(va, ff00), kx0),
                    V_MULHI(V_AVG(KNAME(lo)(va), KNAME(hi)(vb, ff00)), kg)),
              V_MULHI(KNAME(lo)(vb), kx1));
  return V_SRL8(V_ADD(s, r));
}

void KNAME(bin)(const uint8_t *a, const uint8_t *b, int n, uint8_t *out,
                const pv__luma_cell *cell) {
  int i = 0;
  VT kx0 = V_SET16(cell ? cell->kx0 : 0), kx1 = V_SET16(cell ? cell->kx1 : 0);
  VT kg = V_SET16(cell ? cell->kg : 0), ff00 = V_SET16(0xff00);
  VT r = V_SET16(cell ? 128 : 2);
  for (; i + VW <= n; i += VW) {
    VT r0 = KNAME(cells)(a + 2 * i, b + 2 * i, cell, kx0, kx1, kg, ff00, r);
    VT r1 = KNAME(cells)(a + 2 * i + VW, b + 2 * i + VW, cell, kx0, kx1, kg, ff00, r);
    V_STORE(out + i, V_PACK(r0, r1));
  }
  for (; i < n; i++)
    out[i] = cell ? pv__luma_cell_px(a + 2 * i, b + 2 * i, cell)
                  : pv__mono_cell_px(a + 2 * i, b + 2 * i);
}
