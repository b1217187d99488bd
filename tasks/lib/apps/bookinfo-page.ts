// What a Bookinfo user sees on /productpage, judged from the HTML alone, for the request-routing, fault-injection
// and traffic-shifting chapters. The markers are quoted from the pinned release's Bookinfo sources:
// samples/bookinfo/src/productpage/templates/productpage.html (below: template) and
// samples/bookinfo/src/reviews/reviews-application/src/main/java/application/rest/LibertyRestEndpoint.java.

/** template line 7. */
const title = '<title>Simple Bookstore App</title>';
/** template line 163: the reviews call answered 200. */
const reviewsHeading = '<h4 class="text-3xl font-semibold">Book Reviews</h4>';
/** template line 206: the reviews call failed or timed out (productpage.py getProductReviews). */
const reviewsError = 'Error fetching product reviews';
/** template line 148: the details call failed (productpage.py getProductDetails). */
const detailsError = 'Error fetching product details';
/** LibertyRestEndpoint.java lines 120 and 134: reviews v2/v3 got no ratings; template line 183 prints it. */
const ratingsError = 'Ratings service is currently unavailable';
/** template lines 170 and 172: a rating with stars > 0, coloured by the reviews pod's STAR_COLOR. */
const starsDiv = /<div class="flex gap-x-1 text-([a-z]+)-500">\s*<svg id="glyphicon glyphicon-star"/g;
/** template line 44: the signed-in user's name, autoescaped. */
const userLine = /<p class="text-base font-medium text-gray-50">([^<]*)<\/p>/;

/** Star colour seen: none, black (reviews v2), red (v3), both, or a colour the release's images never use. */
export type Stars = 'none' | 'black' | 'red' | 'mixed' | 'other';

/** The verdict on one page: not Bookinfo's product page at all, or what the product page showed. */
export type PageView =
  | { kind: 'not-product-page' }
  | {
      kind: 'product-page';
      stars: Stars;
      /** "Error fetching product reviews": no reviews, so nothing is known about ratings or stars. */
      reviewsUnavailable: boolean;
      /** A review says "Ratings service is currently unavailable" (reviews v2/v3 could not reach ratings). */
      ratingsUnavailable: boolean;
      /** "Error fetching product details". */
      detailsUnavailable: boolean;
      /** Whom the page says is signed in, or null for the "Sign in" button. */
      signedInAs: string | null;
    };

/** The entities Jinja's autoescape (markupsafe) writes. */
const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#34;': '"', '&#39;': "'" };
const unescapeHtml = (s: string) => s.replace(/&(?:amp|lt|gt|#34|#39);/g, (e) => entities[e] ?? e);

function starsOf(html: string): Stars {
  const colours = new Set([...html.matchAll(starsDiv)].map((m) => m[1]));
  if (colours.size === 0) return 'none';
  if (colours.size > 1) return 'mixed';
  const [colour] = colours;
  return colour === 'black' || colour === 'red' ? colour : 'other';
}

/** Judges one /productpage answer: product page or not, star colour, which services it says are unavailable. */
export function judgePage(html: string): PageView {
  const reviewsUnavailable = html.includes(reviewsError);
  if (!html.includes(title) || !(reviewsUnavailable || html.includes(reviewsHeading))) return { kind: 'not-product-page' };
  const user = userLine.exec(html)?.[1];
  return {
    kind: 'product-page',
    stars: starsOf(html),
    reviewsUnavailable,
    ratingsUnavailable: html.includes(ratingsError),
    detailsUnavailable: html.includes(detailsError),
    signedInAs: user === undefined ? null : unescapeHtml(user),
  };
}

/** What went wrong, in the page's own words; nothing for a whole page (what a healthy Bookinfo serves). */
export function troubleOn(view: PageView): string[] {
  if (view.kind === 'not-product-page') return ['not the product page'];
  return [
    ...(view.reviewsUnavailable ? [`"${reviewsError}"`] : []),
    ...(view.ratingsUnavailable ? [`"${ratingsError}"`] : []),
    ...(view.detailsUnavailable ? [`"${detailsError}"`] : []),
  ];
}

/** Where a page counts in a tally: the first that applies of not a product page, no reviews, no ratings, its stars. */
export type Bucket = Stars | 'notProductPage' | 'reviewsUnavailable' | 'ratingsUnavailable';
/** Pages per bucket; the buckets add up to the number of pages. */
export type Tally = Record<Bucket, number>;

/** The bucket one page counts in (see Bucket). */
export function bucketOf(view: PageView): Bucket {
  if (view.kind === 'not-product-page') return 'notProductPage';
  if (view.reviewsUnavailable) return 'reviewsUnavailable';
  if (view.ratingsUnavailable && view.stars === 'none') return 'ratingsUnavailable';
  return view.stars;
}

/** Counts pages per bucket: star colour for pages that showed reviews with ratings, the failures apart. */
export function tally(views: readonly PageView[]): Tally {
  const counts: Tally = {
    none: 0,
    black: 0,
    red: 0,
    mixed: 0,
    other: 0,
    notProductPage: 0,
    reviewsUnavailable: 0,
    ratingsUnavailable: 0,
  };
  for (const view of views) counts[bucketOf(view)]++;
  return counts;
}

/** Whether count of total is within ±tolerancePoints percentage points of expectedPercent (bounds included). */
export function shareWithin(count: number, total: number, expectedPercent: number, tolerancePoints: number): boolean {
  if (!Number.isInteger(total) || total <= 0) throw new RangeError(`total must be a positive integer, not ${total}`);
  if (!Number.isInteger(count) || count < 0 || count > total) throw new RangeError(`count must be 0..${total}, not ${count}`);
  // Compared in whole numbers (count*100 against percent*total), so 3 of 10 is exactly 30 %, not 30.000000000000004.
  return Math.abs(count * 100 - expectedPercent * total) <= tolerancePoints * total;
}
