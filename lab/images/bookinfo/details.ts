// details as samples/bookinfo/src/details/Dockerfile makes it: `ruby details.rb 9080` as user 1000, with the Gemfile's
// one gem (webrick ~> 1.7). Ruby and webrick are Debian's packages (ruby 3.1, ruby-webrick 1.8.1); rubygems.org is
// not reachable here, and Debian's gem satisfies the Gemfile.

import { base } from '../base.ts';
import type { ImageRecipe } from '../recipe.ts';
import { bookinfoSource, releaseImage } from './release.ts';

export const ruby = '/usr/bin/ruby3.1';

export function detailsImage(): ImageRecipe {
  return {
    ref: releaseImage('details-v1'),
    rootfs: () => [
      ...base(),
      { copy: ruby, to: '/usr/bin/ruby' },
      { tree: '/usr/lib/ruby', to: '/usr/lib/ruby' },
      { tree: '/usr/lib/x86_64-linux-gnu/ruby', to: '/usr/lib/x86_64-linux-gnu/ruby' },
      { tree: '/usr/share/rubygems-integration', to: '/usr/share/rubygems-integration' },
      { copy: bookinfoSource('details', 'details.rb'), to: '/opt/microservices/details.rb', mode: 0o644 },
    ],
    config: {
      Cmd: ['ruby', 'details.rb', '9080'],
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'SERVICE_VERSION=v1', 'ENABLE_EXTERNAL_BOOK_SERVICE=false'],
      User: '1000',
      WorkingDir: '/opt/microservices',
    },
  };
}
