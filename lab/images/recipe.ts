// What an image recipe is: the one shape every image's recipe has (recipes.ts, bookinfo/).
import type { ArchiveImage, ImageConfig } from './archive.ts';
import type { RootfsEntry } from './rootfs.ts';

export interface ImageRecipe {
  ref: string;
  /** The root filesystem; may build its inputs first (compile, download), each cached on its own. */
  rootfs: () => RootfsEntry[];
  config: ImageConfig;
  /** More images of the same root filesystem (one layer, one archive), each under its own name with its own config. */
  variants?: ArchiveImage[];
}

/** Every image a recipe makes: its own, then its variants. */
export const imagesOf = (r: ImageRecipe): ArchiveImage[] => [{ ref: r.ref, config: r.config }, ...(r.variants ?? [])];
