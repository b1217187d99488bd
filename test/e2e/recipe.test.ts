// The lab's build recipe, proven from nothing on every run: each wrapper module is resolved in a fresh directory
// against the module cache, so a warm lab cache (resolved markers, built binaries) cannot hide a broken recipe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRecipe } from '../../lab/build.ts';

test('every wrapper module resolves from nothing and its packages load with the resulting go.sum', () => {
  const seconds = checkRecipe();
  assert.ok(seconds > 0, 'the recipe check ran');
});
