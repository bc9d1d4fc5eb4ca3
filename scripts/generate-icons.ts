/**
 * Draws the Teams app icons (`appPackage/color.png`, `appPackage/outline.png`): a filing cabinet.
 * @remarks Run once with `npx tsx scripts/generate-icons.ts` after changing the drawing; the PNGs are
 * committed. Teams wants the colour icon at 192×192 and the outline icon at 32×32, white on transparent.
 * @packageDocumentation
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodePng, type RgbaImage } from './png';

type Rgba = readonly [number, number, number, number];

const ACCENT: Rgba = [0x2b, 0x57, 0x97, 0xff];
const WHITE: Rgba = [0xff, 0xff, 0xff, 0xff];

interface Rect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly radius?: number;
}

function canvas(width: number, height: number): RgbaImage {
  return { width, height, data: new Uint8Array(width * height * 4) };
}

function fill(image: RgbaImage, rect: Rect, colour: Rgba): void {
  const r = rect.radius ?? 0;
  for (let y = rect.y0; y < rect.y1; y++) {
    for (let x = rect.x0; x < rect.x1; x++) {
      const cx = Math.min(Math.max(x + 0.5, rect.x0 + r), rect.x1 - r);
      const cy = Math.min(Math.max(y + 0.5, rect.y0 + r), rect.y1 - r);
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > r * r) continue;
      image.data.set(colour, (y * image.width + x) * 4);
    }
  }
}

function colourIcon(): RgbaImage {
  const image = canvas(192, 192);
  fill(image, { x0: 0, y0: 0, x1: 192, y1: 192 }, ACCENT);
  fill(image, { x0: 54, y0: 30, x1: 138, y1: 162, radius: 8 }, WHITE);
  for (const top of [40, 80, 120]) {
    fill(image, { x0: 64, y0: top, x1: 128, y1: top + 32, radius: 4 }, ACCENT);
    fill(image, { x0: 84, y0: top + 8, x1: 108, y1: top + 13, radius: 2 }, WHITE);
  }
  return image;
}

function outlineIcon(): RgbaImage {
  const image = canvas(32, 32);
  fill(image, { x0: 8, y0: 3, x1: 24, y1: 5 }, WHITE);
  fill(image, { x0: 8, y0: 27, x1: 24, y1: 29 }, WHITE);
  fill(image, { x0: 8, y0: 3, x1: 10, y1: 29 }, WHITE);
  fill(image, { x0: 22, y0: 3, x1: 24, y1: 29 }, WHITE);
  for (const divider of [11, 19])
    fill(image, { x0: 8, y0: divider, x1: 24, y1: divider + 2 }, WHITE);
  for (const handle of [7, 15, 23])
    fill(image, { x0: 14, y0: handle, x1: 18, y1: handle + 2 }, WHITE);
  return image;
}

const appPackage = resolve(__dirname, '../appPackage');
writeFileSync(resolve(appPackage, 'color.png'), encodePng(colourIcon()));
writeFileSync(resolve(appPackage, 'outline.png'), encodePng(outlineIcon()));
console.log(`Wrote color.png and outline.png to ${appPackage}`);
