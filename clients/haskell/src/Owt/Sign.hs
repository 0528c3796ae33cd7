{-# LANGUAGE OverloadedStrings #-}
-- | Signing code for servers that run only signed code (@--require-signed@).
--
-- @code_sig@ is the base64 Ed25519 signature of the code's UTF-8 bytes: what
-- @owt-fcgi --sign FILE --key PEM@ and @openssl pkeyutl -sign -rawin@ give (Ed25519 is
-- deterministic). The signature comes from cryptonite (Debian's libghc-cryptonite-dev);
-- the PEM key file is read here.
module Owt.Sign
  ( Signer
  , ed25519Signer
  , ed25519SignerFile
  ) where

import Crypto.Error (CryptoFailable (..))
import qualified Crypto.PubKey.Ed25519 as Ed
import qualified Data.ByteArray as BA
import qualified Data.ByteString as B
import qualified Data.ByteString.Base64 as B64
import qualified Data.ByteString.Char8 as B8
import Data.Text (Text)
import qualified Data.Text.Encoding as TE

-- | Signs a code's UTF-8 bytes: the base64 signature sent as @code_sig@.
type Signer = B.ByteString -> IO Text

-- | The DER of a PKCS #8 (v1) Ed25519 private key before its 32-byte seed: what
-- @openssl genpkey -algorithm ed25519@ writes.
pkcs8Ed25519Prefix :: B.ByteString
pkcs8Ed25519Prefix = B.pack [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]

-- | A signer for a PEM Ed25519 private key (the file's bytes), or why not.
ed25519Signer :: B.ByteString -> Either String Signer
ed25519Signer pem = do
  der <- pemBody pem
  seed <- maybe (Left "not an Ed25519 private key (openssl genpkey -algorithm ed25519)") Right
    (B.stripPrefix pkcs8Ed25519Prefix der)
  secret <- case Ed.secretKey seed of
    CryptoPassed k -> Right k
    CryptoFailed e -> Left ("not an Ed25519 private key: " ++ show e)
  let public = Ed.toPublic secret
  Right (\code -> pure (TE.decodeLatin1 (B64.encode (BA.convert (Ed.sign secret public code)))))

-- | 'ed25519Signer' for the key in a PEM file; fails in IO when it cannot sign.
ed25519SignerFile :: FilePath -> IO Signer
ed25519SignerFile path = B.readFile path >>= either (fail . ((path ++ ": ") ++)) pure . ed25519Signer

-- | The DER inside the first -----BEGIN PRIVATE KEY----- block.
pemBody :: B.ByteString -> Either String B.ByteString
pemBody pem =
  case break (== "-----BEGIN PRIVATE KEY-----") (map B8.strip (B8.lines pem)) of
    (_, _ : rest) ->
      let (body, end) = break (== "-----END PRIVATE KEY-----") rest
       in if null end
            then Left "a PEM block without its END line"
            else either (Left . ("bad base64 in the PEM block: " ++)) Right (B64.decode (B.concat body))
    _ -> Left "not a PEM private key (want -----BEGIN PRIVATE KEY-----)"
