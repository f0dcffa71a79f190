/* vitlens-heatmap.c — a rollout grid mapped back onto its picture (see vitlens-heatmap.h). */
#include "vitlens-heatmap.h"

void
vitlens_heatmap_init (VitlensHeatmap *heatmap, const float *grid, int32_t grid_h, int32_t grid_w,
                      int32_t size, const vit_preprocess_geometry *geometry, int32_t width,
                      int32_t height)
{
  heatmap->grid = grid;
  heatmap->grid_h = grid_h;
  heatmap->grid_w = grid_w;
  heatmap->size = (float) size;
  heatmap->sx = (float) geometry->resized_w / (float) width;
  heatmap->sy = (float) geometry->resized_h / (float) height;
  heatmap->crop_x = (float) geometry->crop_x;
  heatmap->crop_y = (float) geometry->crop_y;
}

/* The grid at grid coordinates (gx, gy) (cell centres at integers), bilinear, edges clamped. */
static float
sample (const float *grid, int32_t gh, int32_t gw, float gx, float gy)
{
  gx = gx < 0.0f ? 0.0f : gx > (float) (gw - 1) ? (float) (gw - 1) : gx;
  gy = gy < 0.0f ? 0.0f : gy > (float) (gh - 1) ? (float) (gh - 1) : gy;
  int32_t x0 = (int32_t) gx, y0 = (int32_t) gy;
  int32_t x1 = x0 + 1 < gw ? x0 + 1 : x0, y1 = y0 + 1 < gh ? y0 + 1 : y0;
  float tx = gx - (float) x0, ty = gy - (float) y0;
  float top = grid[y0 * gw + x0] + tx * (grid[y0 * gw + x1] - grid[y0 * gw + x0]);
  float bot = grid[y1 * gw + x0] + tx * (grid[y1 * gw + x1] - grid[y1 * gw + x0]);
  return top + ty * (bot - top);
}

float
vitlens_heatmap_value (const VitlensHeatmap *h, float x, float y)
{
  const float S = h->size;
  // (u, v): the point in the model input
  const float u = x * h->sx - h->crop_x;
  const float v = y * h->sy - h->crop_y;

  if (!(u >= 0.0f && u < S && v >= 0.0f && v < S))
    return -1.0f;
  // the patch grid over the crop: cell centres at ((i + 0.5) S / gw)
  return sample (h->grid, h->grid_h, h->grid_w, u * (float) h->grid_w / S - 0.5f,
                 v * (float) h->grid_h / S - 0.5f);
}

void
vitlens_heatmap_colour (float v, float rgb[3])
{
  static const float stops[5][3] = {
    { 0, 0, 4 }, { 87, 16, 110 }, { 188, 55, 84 }, { 249, 142, 9 }, { 252, 255, 164 },
  };
  v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
  float x = v * 4.0f;
  int i = x >= 4.0f ? 3 : (int) x;
  float t = x - (float) i;
  for (int c = 0; c < 3; c++)
    rgb[c] = stops[i][c] + t * (stops[i + 1][c] - stops[i][c]);
}
