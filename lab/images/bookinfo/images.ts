// Bookinfo's six workloads as the release's bookinfo.yaml names them: productpage, details, ratings and one reviews
// build (v1, v2, v3 differ only in their environment). Their references come from the laid-out release, so this is a
// function: the recipes exist once lab/build.ts has laid out the release directory.
import type { ImageRecipe } from '../recipe.ts';
import { detailsImage } from './details.ts';
import { productpageImage } from './productpage.ts';
import { ratingsImage } from './ratings.ts';
import { reviewsImage } from './reviews.ts';

export const bookinfoRecipes = (): ImageRecipe[] => [productpageImage(), detailsImage(), ratingsImage(), reviewsImage()];
