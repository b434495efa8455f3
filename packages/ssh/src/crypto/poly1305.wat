;; Poly1305 block function (RFC 8439 §2.5) in WebAssembly: h = (h + m) · r mod 2^130 − 5 over
;; whole 16-byte blocks. Five 26-bit limbs in 64-bit integers: a product of a limb of h (below
;; 2^27) and a limb of r times 5 (below 2^28.4) is below 2^55.4, and five of them sum below
;; 2^58 — nothing overflows. Key setup, the last partial block and the final reduction are in
;; crypto/poly1305-wasm.ts. `scripts/build-wasm.mjs` assembles this file into
;; crypto/poly1305-wasm-bytes.ts; a test checks the two agree.
;;
;; Memory: the state at 0..103 (i64 each: h0..h4 at 0..32, r0..r4 at 40..72, 5·r1..5·r4 at
;; 80..104), message bytes from 256 on.
(module
  (memory (export "memory") 2)
  (func (export "blocks") (param $p i32) (param $n i32) (param $hibit i32)
    (local $h0 i64) (local $h1 i64) (local $h2 i64) (local $h3 i64) (local $h4 i64)
    (local $r0 i64) (local $r1 i64) (local $r2 i64) (local $r3 i64) (local $r4 i64)
    (local $s1 i64) (local $s2 i64) (local $s3 i64) (local $s4 i64)
    (local $d0 i64) (local $d1 i64) (local $d2 i64) (local $d3 i64) (local $d4 i64)
    (local $lo i64) (local $hi i64) (local $c i64) (local $end i32)
    (local.set $h0 (i64.load (i32.const 0)))
    (local.set $h1 (i64.load (i32.const 8)))
    (local.set $h2 (i64.load (i32.const 16)))
    (local.set $h3 (i64.load (i32.const 24)))
    (local.set $h4 (i64.load (i32.const 32)))
    (local.set $r0 (i64.load (i32.const 40)))
    (local.set $r1 (i64.load (i32.const 48)))
    (local.set $r2 (i64.load (i32.const 56)))
    (local.set $r3 (i64.load (i32.const 64)))
    (local.set $r4 (i64.load (i32.const 72)))
    (local.set $s1 (i64.load (i32.const 80)))
    (local.set $s2 (i64.load (i32.const 88)))
    (local.set $s3 (i64.load (i32.const 96)))
    (local.set $s4 (i64.load (i32.const 104)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; the block as a 128-bit little-endian number, split into 26-bit limbs, plus 2^128
        (local.set $lo (i64.load (local.get $p)))
        (local.set $hi (i64.load offset=8 (local.get $p)))
        (local.set $h0 (i64.add (local.get $h0) (i64.and (local.get $lo) (i64.const 0x3ffffff))))
        (local.set $h1 (i64.add (local.get $h1)
          (i64.and (i64.shr_u (local.get $lo) (i64.const 26)) (i64.const 0x3ffffff))))
        (local.set $h2 (i64.add (local.get $h2)
          (i64.and
            (i64.or (i64.shr_u (local.get $lo) (i64.const 52)) (i64.shl (local.get $hi) (i64.const 12)))
            (i64.const 0x3ffffff))))
        (local.set $h3 (i64.add (local.get $h3)
          (i64.and (i64.shr_u (local.get $hi) (i64.const 14)) (i64.const 0x3ffffff))))
        (local.set $h4 (i64.add (local.get $h4)
          (i64.or (i64.shr_u (local.get $hi) (i64.const 40)) (i64.extend_i32_u (local.get $hibit)))))
        ;; d = h · r, the terms at 2^130 and above folded back times 5
        (local.set $d0 (i64.add (i64.add (i64.add (i64.add
          (i64.mul (local.get $h0) (local.get $r0))
          (i64.mul (local.get $h1) (local.get $s4)))
          (i64.mul (local.get $h2) (local.get $s3)))
          (i64.mul (local.get $h3) (local.get $s2)))
          (i64.mul (local.get $h4) (local.get $s1))))
        (local.set $d1 (i64.add (i64.add (i64.add (i64.add
          (i64.mul (local.get $h0) (local.get $r1))
          (i64.mul (local.get $h1) (local.get $r0)))
          (i64.mul (local.get $h2) (local.get $s4)))
          (i64.mul (local.get $h3) (local.get $s3)))
          (i64.mul (local.get $h4) (local.get $s2))))
        (local.set $d2 (i64.add (i64.add (i64.add (i64.add
          (i64.mul (local.get $h0) (local.get $r2))
          (i64.mul (local.get $h1) (local.get $r1)))
          (i64.mul (local.get $h2) (local.get $r0)))
          (i64.mul (local.get $h3) (local.get $s4)))
          (i64.mul (local.get $h4) (local.get $s3))))
        (local.set $d3 (i64.add (i64.add (i64.add (i64.add
          (i64.mul (local.get $h0) (local.get $r3))
          (i64.mul (local.get $h1) (local.get $r2)))
          (i64.mul (local.get $h2) (local.get $r1)))
          (i64.mul (local.get $h3) (local.get $r0)))
          (i64.mul (local.get $h4) (local.get $s4))))
        (local.set $d4 (i64.add (i64.add (i64.add (i64.add
          (i64.mul (local.get $h0) (local.get $r4))
          (i64.mul (local.get $h1) (local.get $r3)))
          (i64.mul (local.get $h2) (local.get $r2)))
          (i64.mul (local.get $h3) (local.get $r1)))
          (i64.mul (local.get $h4) (local.get $r0))))
        ;; partial reduction: each limb's carry into the next, the top one around times 5
        (local.set $c (i64.shr_u (local.get $d0) (i64.const 26)))
        (local.set $h0 (i64.and (local.get $d0) (i64.const 0x3ffffff)))
        (local.set $d1 (i64.add (local.get $d1) (local.get $c)))
        (local.set $c (i64.shr_u (local.get $d1) (i64.const 26)))
        (local.set $h1 (i64.and (local.get $d1) (i64.const 0x3ffffff)))
        (local.set $d2 (i64.add (local.get $d2) (local.get $c)))
        (local.set $c (i64.shr_u (local.get $d2) (i64.const 26)))
        (local.set $h2 (i64.and (local.get $d2) (i64.const 0x3ffffff)))
        (local.set $d3 (i64.add (local.get $d3) (local.get $c)))
        (local.set $c (i64.shr_u (local.get $d3) (i64.const 26)))
        (local.set $h3 (i64.and (local.get $d3) (i64.const 0x3ffffff)))
        (local.set $d4 (i64.add (local.get $d4) (local.get $c)))
        (local.set $c (i64.shr_u (local.get $d4) (i64.const 26)))
        (local.set $h4 (i64.and (local.get $d4) (i64.const 0x3ffffff)))
        (local.set $h0 (i64.add (local.get $h0) (i64.mul (local.get $c) (i64.const 5))))
        (local.set $c (i64.shr_u (local.get $h0) (i64.const 26)))
        (local.set $h0 (i64.and (local.get $h0) (i64.const 0x3ffffff)))
        (local.set $h1 (i64.add (local.get $h1) (local.get $c)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    (i64.store (i32.const 0) (local.get $h0))
    (i64.store (i32.const 8) (local.get $h1))
    (i64.store (i32.const 16) (local.get $h2))
    (i64.store (i32.const 24) (local.get $h3))
    (i64.store (i32.const 32) (local.get $h4))))
