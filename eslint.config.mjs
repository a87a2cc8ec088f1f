// ESLint: typescript-eslint's recommended rules on every TypeScript file, then eslint-config-prettier
// (Prettier owns the layout: .prettierrc.json), then one rule of ours, max-len, so that what Prettier
// cannot break (a long string, template literal or comment) is still held to 120 characters.
// `npm run lint` checks, `npm run format` rewrites; CI runs `npm run lint` (.ci/run).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'bench/results/', '.services/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  prettier,
  {
    rules: {
      // Turned off by eslint-config-prettier, turned on again: Prettier wraps code at 120, this
      // catches the rest. Nothing is exempt (no ignoreStrings/Urls/Comments): a long message is
      // split with +, a long comment is rewrapped. Deprecated in ESLint core but kept until 11.0
      // (then @stylistic/max-len, same options).
      'max-len': ['error', { code: 120, tabWidth: 2 }],
      // Unused names are a compile error already (tsconfig noUnusedLocals/Parameters); `_name`
      // marks a parameter an interface requires but this implementation does not use.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
);
