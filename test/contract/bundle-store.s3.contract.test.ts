import { S3BundleStore } from '#adapters/s3/s3-bundle-store.ts';
import { awsTest } from '../support/aws-local.ts';
import { describeBundleStore } from './bundle-store.contract.ts';

describeBundleStore(
  'S3 on fauxqs',
  awsTest.extend('store', async ({ s3, bucket }) => new S3BundleStore(s3, bucket)),
);
