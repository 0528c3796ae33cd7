{-# LANGUAGE OverloadedStrings #-}
-- | A local fake owt server: answers like owt would, by path, and echoes on /echo
-- what it saw. One request per connection.
module Fake
  ( Fake (..)
  , startFake
  , stopFake
  , openGate
  , gateTimedOut
  , fakeUser
  , fakePassword
  , fakeModes
  ) where

import Control.Concurrent (ThreadId, forkIO, killThread)
import Control.Concurrent.MVar
import Control.Exception (SomeException, finally, try)
import Control.Monad (forever, void, when)
import Crypto.Hash (SHA256 (..), hashWith)
import Data.Aeson (object, (.=))
import qualified Data.Aeson as A
import qualified Data.Aeson.Key as K
import qualified Data.Aeson.KeyMap as KM
import qualified Data.ByteString as B
import qualified Data.ByteString.Base64 as B64
import qualified Data.ByteString.Char8 as B8
import qualified Data.ByteString.Lazy as L
import Data.Char (toLower)
import Data.IORef
import Data.Text (Text)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import qualified Data.Text.Encoding.Error as TE
import qualified Network.HTTP.Types as HT
import Network.Socket
import Network.Socket.ByteString (recv, sendAll)
import System.Timeout (timeout)

data Fake = Fake
  { fakeUrl :: String
  , fakeGate :: MVar ()
  , fakeTimedOut :: IORef Bool
  , fakeSocket :: Socket
  , fakeThread :: ThreadId
  , fakeCodes :: IORef [Text]
    -- ^ code_sha256 of the code sent to /store
  , fakeSent :: IORef [Text]
    -- ^ how each request to /store or /nostore carried the code, newest first
  }

-- | How each request to /store or /nostore carried the code: "full" or "digest".
fakeModes :: Fake -> IO [Text]
fakeModes f = reverse <$> readIORef (fakeSent f)

fakeUser, fakePassword :: Text
fakeUser = "ada"
fakePassword = "s3cr\234t"

startFake :: IO Fake
startFake = do
  sock <- socket AF_INET Stream defaultProtocol
  setSocketOption sock ReuseAddr 1
  bind sock (SockAddrInet 0 (tupleToHostAddress (127, 0, 0, 1)))
  listen sock 16
  port <- socketPort sock
  gate <- newEmptyMVar
  timedOut <- newIORef False
  codes <- newIORef []
  sent <- newIORef []
  tid <- forkIO $ forever $ do
    (conn, _) <- accept sock
    void $ forkIO $ void (try (serve gate timedOut codes sent conn) :: IO (Either SomeException ())) `finally` close conn
  pure (Fake ("http://127.0.0.1:" ++ show port) gate timedOut sock tid codes sent)

stopFake :: Fake -> IO ()
stopFake f = do
  openGate f
  killThread (fakeThread f)
  close (fakeSocket f)

openGate :: Fake -> IO ()
openGate f = void (tryPutMVar (fakeGate f) ())

gateTimedOut :: Fake -> IO Bool
gateTimedOut = readIORef . fakeTimedOut

data Req = Req
  { rMethod :: B.ByteString
  , rPath :: B.ByteString
  , rQuery :: B.ByteString
  , rHeaders :: [(B.ByteString, B.ByteString)]
  , rBody :: B.ByteString
  }

readRequest :: Socket -> IO Req
readRequest conn = go B.empty
  where
    go buf = case B.breakSubstring "\r\n\r\n" buf of
      (headPart, rest) | not (B.null rest) -> do
        let ls = B8.lines (B8.filter (/= '\r') headPart)
            [method, target, _] = B8.words (head ls)
            headers = [(B8.map toLower (B8.strip k), B8.strip (B.drop 1 v)) | l <- tail ls, let (k, v) = B8.break (== ':') l]
            len = maybe 0 (maybe 0 fst . B8.readInt) (lookup "content-length" headers)
            (path, query) = B8.break (== '?') target
        body <- readBody (B.drop 4 rest) len
        pure (Req method path (B.drop 1 query) headers body)
      _ -> do
        more <- recv conn 65536
        if B.null more then fail "connection closed" else go (buf <> more)
    readBody have len
      | B.length have >= len = pure (B.take len have)
      | otherwise = do
          more <- recv conn 65536
          if B.null more then pure have else readBody (have <> more) len

serve :: MVar () -> IORef Bool -> IORef [Text] -> IORef [Text] -> Socket -> IO ()
serve gate timedOut codes sent conn = do
  req <- readRequest conn
  let want = "Basic " <> B64.encode (TE.encodeUtf8 (fakeUser <> ":" <> fakePassword))
      path0 = rPath req
  if "/auth" `B.isPrefixOf` path0 && lookup "authorization" (rHeaders req) /= Just want
    then send 401 (Just "text/plain; charset=utf-8") [("WWW-Authenticate", "Basic realm=\"owt\"")] "Unauthorized\n"
    else route req (if "/auth" `B.isPrefixOf` path0 then B.drop 5 path0 else path0)
  where
    send :: Int -> Maybe B.ByteString -> [(B.ByteString, B.ByteString)] -> B.ByteString -> IO ()
    send status ctype extra body =
      sendAll conn $
        B.concat $
          ["HTTP/1.1 ", B8.pack (show status), " ", reason status, "\r\n"]
            ++ maybe [] (\c -> ["Content-Type: ", c, "\r\n"]) ctype
            ++ concat [[k, ": ", v, "\r\n"] | (k, v) <- extra]
            ++ ["Content-Length: ", B8.pack (show (B.length body)), "\r\nConnection: close\r\n\r\n", body]
    reason 200 = "OK"
    reason 401 = "Unauthorized"
    reason 404 = "Not Found"
    reason 500 = "Internal Server Error"
    reason _ = "Whatever"
    stream ctype pieces = do
      sendAll conn (B.concat ["HTTP/1.1 200 OK\r\nContent-Type: ", ctype, "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"])
      mapM_ piece pieces
      sendAll conn "0\r\n\r\n"
    piece Nothing = do
      ok <- timeout 5000000 (readMVar gate)
      maybe (writeIORef timedOut True) pure ok
    piece (Just b) = sendAll conn (B.concat [B8.pack (showHex' (B.length b)), "\r\n", b, "\r\n"])
    showHex' n = let digits = "0123456789abcdef" in if n < 16 then [digits !! n] else showHex' (n `div` 16) ++ [digits !! (n `mod` 16)]
    text = TE.decodeUtf8With TE.lenientDecode
    -- Like an owt server with a code store: code sent is kept by its SHA-256, a known
    -- code_sha256 runs, an unknown one is the 404 with the JSON body. Under /nostore
    -- nothing is kept. The answer says how the code arrived.
    codeStore req path = do
      let fields =
            if B.null (rBody req)
              then [(text k, text v) | (k, v) <- HT.parseSimpleQuery (rQuery req)]
              else case A.decodeStrict (rBody req) of
                Just (A.Object o) -> [(K.toText k, v) | (k, A.String v) <- KM.toList o]
                _ -> []
      known <- readIORef codes
      mode <- case (lookup "code_b64" fields, lookup "code_sha256" fields) of
        (Just b64, _) -> do
          let digest = T.pack (show (hashWith SHA256 (either (const B.empty) id (B64.decode (TE.encodeUtf8 b64)))))
          when ("/store" `B.isPrefixOf` path) (modifyIORef codes (digest :))
          pure (Just "full")
        (_, Just d) | d `elem` known -> pure (Just "digest")
        _ -> pure Nothing
      modifyIORef sent (maybe "digest" id mode :)
      case mode of
        Nothing ->
          send 404 (Just "application/json") [] $
            L.toStrict (A.encode (object ["error" .= ("unknown code_sha256" :: Text), "code_sha256" .= lookup "code_sha256" fields]))
        Just m
          | "/stream" `B.isSuffixOf` path -> stream "text/event-stream" [Just ("data: " <> TE.encodeUtf8 m <> "\n\n")]
          | otherwise -> send 200 (Just "application/json") [] (L.toStrict (A.encode (object ["mode" .= m, "fields" .= map fst fields])))
    route req path = if "/store" `B.isPrefixOf` path || "/nostore" `B.isPrefixOf` path then codeStore req path else routeFixed req path
    routeFixed req path = case path of
      p | p `elem` ["/echo", "/", ""] ->
        send 200 (Just "application/json") [] $
          L.toStrict $
            A.encode $
              object
                [ "method" .= text (rMethod req)
                , "path" .= text (rPath req)
                , "query" .= text (rQuery req)
                , "body" .= text (rBody req)
                , "headers" .= object [K.fromText (text k) .= text v | (k, v) <- rHeaders req]
                ]
      "/text" -> send 200 (Just "text/plain; charset=utf-8") [] (TE.encodeUtf8 "h\233llo \127757")
      "/latin1" -> send 200 (Just "text/plain; charset=ISO-8859-1") [] "caf\233"
      "/html" -> send 200 (Just "text/html; charset=utf-8") [] "<p>hi</p>"
      "/json" -> send 200 (Just "application/json") [] (TE.encodeUtf8 "{\"a\":[1,2],\"\252\":null}")
      "/bytes" -> send 200 (Just "application/octet-stream") [] (B.pack [0 .. 255])
      "/empty" -> send 200 Nothing [] ""
      "/500" -> send 500 (Just "text/plain; charset=utf-8") [] "Error executing code: ValueError: boom \xc3\xbc\n"
      "/404-empty" -> send 404 Nothing [] ""
      "/sse" ->
        stream
          "text/event-stream"
          [ Just ": comment\n\ndata: one\n\n"
          , Nothing
          , Just "event: tick\r\nid: 7\r\ndata: two\r\ndata: lines\r\n\r\n"
          , Just "data: \xc3"
          , Just "\xbc\n\n"
          , Just "data: [DONE]\n\n"
          ]
      "/sse-error" ->
        stream
          "text/event-stream"
          [ Just "data: before\n\n"
          , Just "event: error\ndata: Error executing code: RuntimeError: late\n\n"
          , Just "data: after\n\n"
          ]
      "/chunks" -> stream "application/octet-stream" [Just "\x00\x01", Nothing, Just "\x02", Just "\xff\xff\xff"]
      _ -> send 404 (Just "text/plain") [] ("no such fake route: " <> path)
