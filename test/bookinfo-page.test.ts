// Judging Bookinfo's product page: the pages the pinned release renders (test/fixtures/bookinfo, from its own
// template by render.py), served over HTTP on localhost, and the share arithmetic of traffic shifting.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bucketOf, judgePage, type PageView, shareWithin, tally, troubleOn } from '../tasks/lib/apps/bookinfo-page.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures', 'bookinfo');
const server = createServer((req, res) => {
  const name = path.basename(req.url ?? '');
  const body = name.endsWith('.html') ? readFile(path.join(fixtures, name), 'utf8') : Promise.reject();
  body.then(
    (body) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body),
    () => res.writeHead(404).end('not found'),
  );
});
let base = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const page = async (name: string): Promise<string> => {
  const res = await fetch(`${base}/${name}`);
  assert.equal(res.status, 200, `${name} is served`);
  return res.text();
};

const product = (over: Partial<Extract<PageView, { kind: 'product-page' }>> = {}): PageView => ({
  kind: 'product-page',
  stars: 'none',
  reviewsUnavailable: false,
  ratingsUnavailable: false,
  detailsUnavailable: false,
  signedInAs: null,
  ...over,
});

const expected: Record<string, PageView> = {
  'reviews-v1.html': product(),
  'reviews-v2.html': product({ stars: 'black' }),
  'reviews-v3.html': product({ stars: 'red' }),
  'reviews-v2-jason.html': product({ stars: 'black', signedInAs: 'jason' }),
  'ratings-unavailable.html': product({ ratingsUnavailable: true, signedInAs: 'jason' }),
  'reviews-unavailable.html': product({ reviewsUnavailable: true, signedInAs: 'jason' }),
  'details-unavailable.html': product({ detailsUnavailable: true }),
};

describe('judgePage on the product page as the pinned release renders it', () => {
  it('has a verdict for every fixture, and a fixture for every verdict', () => {
    const rendered = readdirSync(fixtures).filter((f) => f.endsWith('.html'));
    assert.deepEqual(rendered.sort(), Object.keys(expected).sort());
  });

  for (const [name, view] of Object.entries(expected)) {
    it(`${name}: ${JSON.stringify(view)}`, async () => {
      assert.deepEqual(judgePage(await page(name)), view);
    });
  }

  it('is not the product page: nothing, a proxy error, a page cut before the reviews', async () => {
    const cut = (await page('reviews-v1.html')).split('<!-- Book reviews section -->')[0];
    const retitled = (await page('reviews-v1.html')).replace('<title>Simple Bookstore App</title>', '<title>Another App</title>');
    for (const body of ['', 'no healthy upstream', cut, retitled])
      assert.deepEqual(judgePage(body), { kind: 'not-product-page' });
  });

  it('says mixed for black and red stars on one page, other for a colour no image uses', async () => {
    const red = await page('reviews-v3.html');
    assert.equal((judgePage((await page('reviews-v2.html')) + red) as { stars: string }).stars, 'mixed');
    const blue = red.replaceAll('<div class="flex gap-x-1 text-red-500">', '<div class="flex gap-x-1 text-blue-500">');
    assert.notEqual(blue, red);
    assert.equal((judgePage(blue) as { stars: string }).stars, 'other');
  });

  it('reads the signed-in name back from its HTML escaping', async () => {
    const jason = await page('reviews-v2-jason.html');
    const line = (user: string) => `<p class="text-base font-medium text-gray-50">${user}</p>`;
    const odd = jason.replace(line('jason'), line('o&#39;brien &amp; &lt;co&gt; &#34;x&#34;'));
    assert.notEqual(odd, jason);
    assert.equal((judgePage(odd) as { signedInAs: string }).signedInAs, 'o\'brien & <co> "x"');
  });
});

describe('troubleOn: what a page says went wrong, nothing on a whole page', () => {
  it('says nothing on the pages of a healthy Bookinfo', async () => {
    for (const name of ['reviews-v1.html', 'reviews-v2.html', 'reviews-v3.html', 'reviews-v2-jason.html'])
      assert.deepEqual(troubleOn(judgePage(await page(name))), [], name);
  });

  it('quotes the page for each service it could not reach; not the product page says so', async () => {
    assert.deepEqual(troubleOn(judgePage(await page('reviews-unavailable.html'))), ['"Error fetching product reviews"']);
    assert.deepEqual(troubleOn(judgePage(await page('ratings-unavailable.html'))), [
      '"Ratings service is currently unavailable"',
    ]);
    assert.deepEqual(troubleOn(judgePage(await page('details-unavailable.html'))), ['"Error fetching product details"']);
    assert.deepEqual(troubleOn(product({ reviewsUnavailable: true, detailsUnavailable: true, ratingsUnavailable: true })), [
      '"Error fetching product reviews"',
      '"Ratings service is currently unavailable"',
      '"Error fetching product details"',
    ]);
    assert.deepEqual(troubleOn(judgePage('no healthy upstream')), ['not the product page']);
  });
});

describe('tally', () => {
  it('puts every page in one bucket: stars apart from the pages without reviews or ratings', async () => {
    const names = [
      'reviews-v1.html',
      'reviews-v2.html',
      'reviews-v3.html',
      'reviews-v3.html',
      'ratings-unavailable.html',
      'reviews-unavailable.html',
      'details-unavailable.html',
    ];
    const views = [...(await Promise.all(names.map(async (n) => judgePage(await page(n))))), judgePage('no healthy upstream')];
    assert.deepEqual(tally(views), {
      none: 2, // v1 and details-unavailable (reviews v1)
      black: 1,
      red: 2,
      mixed: 0,
      other: 0,
      notProductPage: 1,
      reviewsUnavailable: 1,
      ratingsUnavailable: 1,
    });
    assert.equal(bucketOf(views[4]!), 'ratingsUnavailable');
    assert.equal(
      Object.values(tally(views)).reduce((a, b) => a + b, 0),
      views.length,
    );
    assert.ok(
      Object.values(tally([])).every((n) => n === 0),
      'an empty tally counts zero in every bucket',
    );
  });
});

describe('shareWithin', () => {
  it('includes exactly ±10 points and excludes just outside', () => {
    assert.equal(shareWithin(40, 100, 50, 10), true);
    assert.equal(shareWithin(60, 100, 50, 10), true);
    assert.equal(shareWithin(39, 100, 50, 10), false);
    assert.equal(shareWithin(61, 100, 50, 10), false);
    assert.equal(shareWithin(0, 100, 10, 10), true);
    assert.equal(shareWithin(21, 100, 10, 10), false);
  });

  it('is exact where floating point is not (3 of 10 is 30 %, 1 of 3 is 33.3… %)', () => {
    assert.equal(shareWithin(3, 10, 20, 10), true);
    assert.equal(shareWithin(1, 3, 50, 16), false);
    assert.equal(shareWithin(1, 3, 50, 17), true);
  });

  it('refuses a share of nothing or of more than the whole', () => {
    assert.throws(() => shareWithin(0, 0, 50, 10), { name: 'RangeError', message: 'total must be a positive integer, not 0' });
    assert.throws(() => shareWithin(11, 10, 50, 10), { name: 'RangeError', message: 'count must be 0..10, not 11' });
    assert.throws(() => shareWithin(-1, 10, 50, 10), RangeError);
    assert.throws(() => shareWithin(1.5, 10, 50, 10), RangeError);
  });
});
